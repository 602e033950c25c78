from __future__ import annotations

from django.contrib import admin

from kiwidesk.contacts.models import Contact, Identity, Organisation


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ["name", "kind", "tier", "category", "domain"]
    list_filter = ["kind", "tier", "category"]
    search_fields = ["name", "domain"]


class IdentityInline(admin.TabularInline[Identity, Contact]):
    model = Identity
    extra = 1


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin[Contact]):
    list_display = ["name", "organisation", "is_third_party", "created_at"]
    list_filter = ["is_third_party", "organisation__tier"]
    search_fields = ["name", "identities__value", "organisation__name"]
    autocomplete_fields = ["organisation"]
    inlines = [IdentityInline]


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin[Identity]):
    list_display = ["value", "kind", "contact", "is_primary"]
    list_filter = ["kind"]
    search_fields = ["value", "contact__name"]
    raw_id_fields = ["contact"]
