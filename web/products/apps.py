from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "web.products"
    label = "products"
    verbose_name = "Products"
