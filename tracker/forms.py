"""Forms validate and clean staff input; the domain verbs on the models do the changing."""

from datetime import date

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import URLValidator
from django.utils import timezone

from tracker.models import (
    ActivityKind,
    Category,
    Demand,
    Provision,
    ProvisionKind,
    ProvisionStatus,
    Stakeholder,
    StakeholderKind,
    Stance,
    StatementKind,
)
from tracker.money import AmountError, parse_dollars

PROVISION_SORTS = {
    "title": ("title", "Title"),
    "status": ("status", "Status"),
    "category": ("category", "Category"),
    "-updated_at": ("-updated_at", "Recently changed"),
}


class ProvisionFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=200)
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *ProvisionKind.choices])
    category = forms.ChoiceField(required=False, choices=[("", "Any category"), *Category.choices])
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *ProvisionStatus.choices]
    )
    owner = forms.ModelChoiceField(
        required=False, queryset=get_user_model().objects.none(), empty_label="Any owner"
    )
    sort = forms.ChoiceField(
        required=False, choices=[(key, label) for key, (_, label) in PROVISION_SORTS.items()]
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            get_user_model().objects.filter(owned_provisions__isnull=False).distinct()
        )


class StatusChangeForm(forms.Form):
    """A status change, carrying the revision it was based on so a stale one is refused."""

    status = forms.ChoiceField(choices=ProvisionStatus.choices, label="New status")
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    note = forms.CharField(
        required=False,
        max_length=500,
        label="Note (optional)",
        widget=forms.TextInput(attrs={"placeholder": "Why, or where you heard it"}),
    )

    def __init__(self, *args: object, status_choices: list[tuple[str, str]], **kwargs: object):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = status_choices


class DemandStatusForm(StatusChangeForm):
    pass


def _http_url(value: str) -> None:
    URLValidator(schemes=["http", "https"])(value)


class PositionForm(forms.Form):
    """A stakeholder's stance on one provision or demand, as of a date, with its source."""

    target = forms.ChoiceField(label="On")
    stance = forms.ChoiceField(choices=Stance.choices, widget=forms.RadioSelect)
    as_of = forms.DateField(
        label="As of", widget=forms.DateInput(attrs={"type": "date"}), initial=date.today
    )
    source_url = forms.CharField(
        required=False,
        label="Source URL",
        max_length=500,
        validators=[_http_url],
        widget=forms.URLInput(attrs={"placeholder": "https://…"}),
        help_text="Leave empty only if there is no source yet: the position is marked unsourced.",
    )
    statement = forms.CharField(
        required=False,
        label="Quote or paraphrase",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    statement_kind = forms.ChoiceField(
        choices=StatementKind.choices, initial=StatementKind.PARAPHRASE, label="That text is a"
    )

    def __init__(
        self, *args: object, provisions: list[Provision], demands: list[Demand], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.targets = {f"provision:{p.pk}": p for p in provisions} | {
            f"demand:{d.pk}": d for d in demands
        }
        self.fields["target"].choices = [
            ("Provisions", [(f"provision:{p.pk}", p.title) for p in provisions]),
            ("Demands", [(f"demand:{d.pk}", d.title) for d in demands]),
        ]

    def clean_as_of(self) -> date:
        as_of = self.cleaned_data["as_of"]
        if as_of > timezone.localdate():
            raise forms.ValidationError("The as-of date cannot be in the future.")
        return as_of

    def target_kwargs(self) -> dict[str, Provision | Demand]:
        kind, _ = self.cleaned_data["target"].split(":")
        return {kind: self.targets[self.cleaned_data["target"]]}


class DemandForm(forms.ModelForm):
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Demand
        fields = [
            "title",
            "demanded_by",
            "asks",
            "in_exchange_for",
            "raised_on",
            "source_url",
            "provisions",
            "notes",
        ]
        widgets = {
            "asks": forms.Textarea(attrs={"rows": 3}),
            "in_exchange_for": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "raised_on": forms.DateInput(attrs={"type": "date"}),
            "provisions": forms.SelectMultiple(attrs={"size": 8}),
        }
        labels = {"asks": "What it asks", "in_exchange_for": "In exchange for"}

    def __init__(self, *args: object, negotiation_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provisions"].queryset = Provision.objects.filter(
            negotiation_id=negotiation_id
        ).order_by("title")
        self.fields["demanded_by"].queryset = Stakeholder.objects.order_by("name")
        self.fields["source_url"].validators.append(_http_url)
        # An edit must say which revision it was based on, so it cannot overwrite a newer one.
        self.fields["revision"].required = self.instance.pk is not None

    def clean_raised_on(self) -> date | None:
        raised_on = self.cleaned_data["raised_on"]
        if raised_on and raised_on > timezone.localdate():
            raise forms.ValidationError("A demand cannot be raised in the future.")
        return raised_on


class NoteForm(forms.Form):
    text = forms.CharField(max_length=2000, label="Note", widget=forms.Textarea(attrs={"rows": 2}))


class StakeholderFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=200)
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *StakeholderKind.choices])
    chamber = forms.ChoiceField(
        required=False, choices=[("", "Any chamber"), ("senate", "Senate"), ("house", "House")]
    )
    party = forms.ChoiceField(
        required=False,
        choices=[("", "Any party"), ("D", "Democrat"), ("R", "Republican"), ("I", "Independent")],
    )
    state = forms.CharField(required=False, max_length=2, label="State")

    def clean_state(self) -> str:
        return self.cleaned_data["state"].upper()


class TimelineFilterForm(forms.Form):
    kind = forms.ChoiceField(required=False, choices=[("", "Every kind"), *ActivityKind.choices])
    provision = forms.IntegerField(required=False, widget=forms.HiddenInput)
    demand = forms.IntegerField(required=False, widget=forms.HiddenInput)
    stakeholder = forms.IntegerField(required=False, widget=forms.HiddenInput)
    vote = forms.IntegerField(required=False, widget=forms.HiddenInput)
    bill = forms.IntegerField(required=False, widget=forms.HiddenInput)
    before = forms.IntegerField(required=False, widget=forms.HiddenInput)


class AmountForm(forms.Form):
    """One version's amount for a provision, as staff write it ("$60.84B", "481,000,000")."""

    amount = forms.CharField(required=False, max_length=40)

    def clean_amount(self) -> int | None:
        try:
            return parse_dollars(self.cleaned_data["amount"])
        except AmountError as error:
            raise forms.ValidationError(str(error)) from None


GRID_FILTERS = [
    ("senators", "Senators"),
    ("house", "House members"),
    ("D", "Democrats"),
    ("R", "Republicans"),
    ("I", "Independents"),
    ("all", "Everyone"),
]


class GridFilterForm(forms.Form):
    show = forms.ChoiceField(required=False, choices=GRID_FILTERS)
