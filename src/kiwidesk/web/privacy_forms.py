"""The shapes of the privacy screens' input: a retention policy, an erasure's confirmation."""

from __future__ import annotations

from django import forms

from kiwidesk.cases.models import Sensitivity
from kiwidesk.contacts.models import Organisation
from kiwidesk.privacy.models import RetentionAction
from kiwidesk.privacy.retention_policies import MAX_DAYS, PolicySpec

CONFIRMATION_WORD = "ERASE"


class RetentionPolicyForm(forms.Form):
    sensitivity = forms.ChoiceField(choices=Sensitivity.choices)
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.order_by("name"),
        required=False,
        empty_label="Any organisation",
        help_text="An organisation's own policy wins over the one for any organisation.",
    )
    action = forms.ChoiceField(choices=RetentionAction.choices)
    after_days = forms.IntegerField(
        label="After days", min_value=1, max_value=MAX_DAYS, help_text="Days after closing."
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    def spec(self) -> PolicySpec:
        data = self.cleaned_data
        organisation = data["organisation"]
        return PolicySpec(
            sensitivity=data["sensitivity"],
            action=data["action"],
            after_days=data["after_days"],
            organisation_id=organisation.pk if organisation else None,
            is_active=data["is_active"],
        )


class ErasureForm(forms.Form):
    confirmation = forms.CharField(
        label=f"Type {CONFIRMATION_WORD} to confirm",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_confirmation(self) -> str:
        typed: str = self.cleaned_data["confirmation"].strip()
        if typed != CONFIRMATION_WORD:
            raise forms.ValidationError(f"Type {CONFIRMATION_WORD} in capitals to erase.")
        return typed
