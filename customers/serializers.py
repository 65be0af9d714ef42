from rest_framework import serializers


class ExportSerializer(serializers.Serializer):
    profile = serializers.DictField()
    addresses = serializers.ListField(child=serializers.DictField())
    orders = serializers.ListField(child=serializers.DictField(), help_text="Each with its lines (`items`).")
    reviews = serializers.ListField(child=serializers.DictField())
    carts = serializers.ListField(child=serializers.DictField())
