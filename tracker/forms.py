"""Forms validate and clean staff input; the domain verbs on the models do the changing."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from tracker.models import (
    ActivityKind,
    Category,
    Chamber,
    Demand,
    DemandStatus,
    Position,
    Provision,
    ProvisionKind,
    ProvisionStatus,
    Stakeholder,
    StakeholderKind,
    Stance,
)
from tracker.money import AmountError, parse_dollars

# Ids in a URL: a number past the database's bigint would crash the query, not just miss.
MAX_ID = 2**63 - 1


PROVISION_SORTS = {
    "-updated_at": ("-updated_at", "Recently changed"),
    "title": ("title", "Title"),
    "status": ("status", "Status"),
    "category": ("category", "Category"),
}


def type_ahead(field: forms.Field, kind: str, **scope: object) -> None:
    """Give a long select type-ahead: static/tracker/combobox.js puts a combobox over it that
    asks /choices/<kind>/ (with `scope` in the query) for the options matching what is typed.
    The select itself stays in the form, holding the choice; without JavaScript it is all
    there is."""
    url = reverse("tracker-choices", args=[kind])
    if scope:
        url += "?" + "&".join(f"{key}={value}" for key, value in scope.items())
    field.widget.attrs["data-choices"] = url


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
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)
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


class PositionForm(forms.ModelForm):
    """A stakeholder's stance on one provision or demand, as of a date, with its source.

    The one form for recording a position, on a stakeholder's page and on the whip board. The
    rules (dates, statement length, web links only) are the model's, so the admin and any
    other path that saves a Position keeps them too.
    """

    target = forms.ChoiceField(label="On")
    # Declared here so that no stance is preselected: radio buttons with none checked.
    stance = forms.ChoiceField(choices=Stance.choices, widget=forms.RadioSelect)

    class Meta:
        model = Position
        fields = ["stance", "as_of", "source_url", "source_type", "statement", "statement_kind"]
        labels = {
            "as_of": "As of",
            "source_url": "Source URL",
            "source_type": "Source type",
            "statement": "Quote or paraphrase",
            "statement_kind": "That text is a",
        }
        help_texts = {
            "source_url": "Leave empty only if there is no source yet: the position is marked "
            "unsourced.",
            "statement": "",
        }
        widgets = {
            "as_of": forms.DateInput(attrs={"type": "date"}),
            "source_url": forms.URLInput(attrs={"placeholder": "https://…"}),
            "statement": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(
        self,
        *args: object,
        provisions: list[Provision],
        demands: list[Demand],
        whip_target_id: int | None = None,
        **kwargs: object,
    ) -> None:
        kwargs.setdefault("initial", {"as_of": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.targets = {f"provision:{p.pk}": p for p in provisions} | {
            f"demand:{d.pk}": d for d in demands
        }
        # Nothing chosen until the user chooses: the first provision is never saved by accident.
        choices: list = [("", "Choose a provision or demand…")]
        if provisions:
            choices.append(("Provisions", [(f"provision:{p.pk}", p.title) for p in provisions]))
        if demands:
            choices.append(("Demands", [(f"demand:{d.pk}", d.title) for d in demands]))
        self.fields["target"].choices = choices
        # On a whip board, only what the vote is about.
        scope = {"whip": whip_target_id} if whip_target_id else {}
        type_ahead(self.fields["target"], "position-targets", **scope)

    def position_kwargs(self) -> dict[str, object]:
        """What `Stakeholder.record_position` takes, from the cleaned form."""
        data = self.cleaned_data
        kind, _ = data["target"].split(":")
        return {
            kind: self.targets[data["target"]],
            "stance": data["stance"],
            "as_of": data["as_of"],
            "source_url": data["source_url"],
            # Left blank, a source on the record's own hosts counts as primary.
            "source_type": data["source_type"] or None,
            "statement": data["statement"],
            "statement_kind": data["statement_kind"],
        }


class DemandForm(forms.ModelForm):
    revision = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=MAX_ID
    )

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
        self.fields["demanded_by"].empty_label = "Nobody named (unattributed)"
        type_ahead(self.fields["demanded_by"], "stakeholders")
        type_ahead(self.fields["provisions"], "provisions", negotiation=negotiation_id)
        # An edit must say which revision it was based on, so it cannot overwrite a newer one.
        self.fields["revision"].required = self.instance.pk is not None


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


def _id_field() -> forms.IntegerField:
    return forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )


TIMELINE_PERIODS = [
    ("", "Any time"),
    ("today", "Today"),
    ("yesterday", "Since yesterday"),
    ("week", "This week"),
    ("range", "From … to …"),
]


class TimelineFilterForm(forms.Form):
    kind = forms.ChoiceField(required=False, choices=[("", "Every kind"), *ActivityKind.choices])
    period = forms.ChoiceField(required=False, choices=TIMELINE_PERIODS, label="When")
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    provision = _id_field()
    demand = _id_field()
    stakeholder = _id_field()
    vote = _id_field()
    bill = _id_field()
    before = _id_field()
    # "What changed since your last visit": the activities after one id, up to another.
    after = forms.IntegerField(
        required=False, min_value=0, max_value=MAX_ID, widget=forms.HiddenInput
    )
    upto = _id_field()

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", "The end of the range is before its start.")
        return data

    def window(self) -> tuple[datetime | None, datetime | None]:
        """The chosen period as [from, to) in the site's time zone; None where open."""
        data = self.cleaned_data
        today = timezone.localdate()
        period = data.get("period") or ("range" if data.get("start") or data.get("end") else "")
        first: date | None = None
        last: date | None = None
        if period == "today":
            first = today
        elif period == "yesterday":
            first = today - timedelta(days=1)
        elif period == "week":
            first = today - timedelta(days=today.weekday())
        elif period == "range":
            first, last = data.get("start"), data.get("end")

        def midnight(day: date) -> datetime:
            return timezone.make_aware(datetime.combine(day, time.min))

        return (
            midnight(first) if first else None,
            midnight(last + timedelta(days=1)) if last else None,
        )


class VoteFilterForm(forms.Form):
    chamber = forms.ChoiceField(
        required=False, choices=[("", "Both chambers"), *Chamber.choices], label="Chamber"
    )
    # Set by a bill page's "all votes on it" link.
    bill = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )


class DemandFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=200)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *DemandStatus.choices])


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
    hide_derived = forms.BooleanField(
        required=False, label="Hide stances read off a roll call (show only stated positions)"
    )
    primary_only = forms.BooleanField(required=False, label="Only positions with a primary source")
