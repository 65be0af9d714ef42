from decimal import Decimal

import factory

from shipping.models import ShippingMethod, ShippingMethodCountry, TaxRate


class ShippingMethodFactory(factory.django.DjangoModelFactory):
    code = factory.Sequence(lambda n: f"method-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())
    price = Decimal("9.90")
    free_over = None
    min_days = 1
    max_days = 2

    class Meta:
        model = ShippingMethod
        skip_postgeneration_save = True

    @factory.post_generation
    def countries(self, create, extracted, **kwargs):
        for country in extracted or []:
            ShippingMethodCountry.objects.create(method=self, country=country)


class TaxRateFactory(factory.django.DjangoModelFactory):
    country = "FR"
    kind = TaxRate.Kind.PRINT
    rate = Decimal("0.0550")

    class Meta:
        model = TaxRate
        django_get_or_create = ["country", "kind"]
