"""Admin for products and API tokens (a token can be created here as well as by command)."""

from django.contrib import admin

from web.products.models import ApiToken, Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "status", "category", "price", "thumbnail_attempts",
                    "created_at", "updated_at")
    list_filter = ("status", "category", "created_at")
    search_fields = ("title", "description", "category", "image_url")
    readonly_fields = ("thumbnails", "thumbnail_attempts", "created_at", "updated_at")
    date_hierarchy = "created_at"
    list_per_page = 50


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "key_prefix", "created_at")
    search_fields = ("user__username", "name")
    list_select_related = ("user",)
    # The key is generated on save and shown once the token exists.
    readonly_fields = ("key", "created_at")

    @admin.display(description="key")
    def key_prefix(self, token: ApiToken) -> str:
        return f"{token.key[:6]}…"
