from rest_framework import serializers

from bookstore.fields import StrictTextSerializer


class AccountCloseSerializer(StrictTextSerializer):
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})

    def validate_password(self, value: str) -> str:
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError("Your password is not correct.", code="password_incorrect")
        return value


class ExportSerializer(serializers.Serializer):
    profile = serializers.DictField()
    addresses = serializers.ListField(child=serializers.DictField())
    orders = serializers.ListField(child=serializers.DictField(), help_text="Each with its lines (`items`).")
    reviews = serializers.ListField(child=serializers.DictField())
    carts = serializers.ListField(child=serializers.DictField())
