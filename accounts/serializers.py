from django.contrib.auth import password_validation
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from accounts.email_addresses import EmailAddressError, email_normalize
from accounts.exceptions import EmailTakenError
from accounts.models import User
from bookstore.fields import StrictTextModelSerializer, StrictTextSerializer


class NormalizedEmailField(serializers.EmailField):
    """An email address, in its stored form (`accounts.email_addresses`); one that has none is a 400 `invalid`."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            return email_normalize(super().to_internal_value(data))
        except EmailAddressError as error:
            raise serializers.ValidationError(str(error), code="invalid") from None


def validate_new_password(password: str, user: User) -> str:
    try:
        password_validation.validate_password(password, user)
    except Exception as error:
        messages = getattr(error, "messages", [str(error)])
        raise serializers.ValidationError(messages, code="password_invalid") from None
    return password


class ProfileSerializer(StrictTextModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "is_email_verified", "is_staff", "date_joined"]
        read_only_fields = ["id", "email", "is_email_verified", "is_staff", "date_joined"]


# The sign-in's cart fields: a body's `cart_token`, and the response's `cart_merge` report, which
# the cart fills in (`accounts.signals.signed_in`).


@extend_schema_field({"type": "string", "nullable": True, "description": "An anonymous cart's token to merge."})
class CartTokenField(serializers.Field):
    """Sign-in's optional `cart_token`: never an error (a bad one merges nothing), whatever was sent."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("write_only", True)
        kwargs.setdefault(
            "help_text", "An anonymous cart's token: its lines join the account's cart (see `cart_merge`)."
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return data  # as sent: the cart makes sense of it (`cart.serializers.clean_cart_token`)


class CartMergeLineSerializer(serializers.Serializer):
    book_id = serializers.IntegerField()
    quantity = serializers.IntegerField(help_text="The line's quantity after the merge.")


class CartMergeClampedSerializer(CartMergeLineSerializer):
    requested = serializers.IntegerField(help_text="What the two lines added up to.")


class CartMergeDroppedSerializer(serializers.Serializer):
    book_id = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=[("withdrawn", "withdrawn"), ("out_of_stock", "out_of_stock")])


class CartMergeSerializer(serializers.Serializer):
    merged = CartMergeLineSerializer(many=True)
    clamped = CartMergeClampedSerializer(many=True)
    dropped = CartMergeDroppedSerializer(many=True)


class RegisterSerializer(StrictTextModelSerializer):
    email = NormalizedEmailField(
        max_length=254,
        validators=[
            UniqueValidator(
                queryset=User.objects.all(),
                lookup="iexact",
                message=EmailTakenError.message,
            )
        ],
    )
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    cart_token = CartTokenField()

    class Meta:
        model = User
        fields = ["email", "password", "first_name", "last_name", "cart_token"]

    def validate(self, attrs):
        candidate = User(
            email=attrs["email"], first_name=attrs.get("first_name", ""), last_name=attrs.get("last_name", "")
        )
        try:
            validate_new_password(attrs["password"], candidate)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"password": error.detail}) from None
        return attrs


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(read_only=True)


class LoginSerializer(serializers.Serializer):
    email = NormalizedEmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})
    cart_token = CartTokenField()


class SignInTokenPairSerializer(TokenPairSerializer):
    cart_merge = CartMergeSerializer(allow_null=True, read_only=True, help_text="What the cart token's merge did.")


class SignInProfileSerializer(ProfileSerializer):
    cart_merge = CartMergeSerializer(allow_null=True, read_only=True, help_text="What the cart token's merge did.")

    class Meta(ProfileSerializer.Meta):
        fields = [*ProfileSerializer.Meta.fields, "cart_merge"]
        read_only_fields = [*ProfileSerializer.Meta.read_only_fields, "cart_merge"]


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=2048, write_only=True)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})
    new_password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})

    def validate_old_password(self, value):
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError("Your current password is not correct.", code="password_incorrect")
        return value

    def validate_new_password(self, value):
        return validate_new_password(value, self.context["request"].user)


class PasswordResetSerializer(serializers.Serializer):
    email = NormalizedEmailField(max_length=254)


class UidTokenSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)


class PasswordResetConfirmSerializer(UidTokenSerializer):
    new_password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})


class AccountCloseSerializer(StrictTextSerializer):
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})

    def validate_password(self, value: str) -> str:
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError("Your password is not correct.", code="password_incorrect")
        return value
