"""What the provision and demand admins share: a status changes only as the workflow allows,
and through the model's change_status, so it reaches the timeline."""

from django import forms
from django.db import models
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin


class WorkflowStatusForm(forms.ModelForm):
    """Refuses a status the workflow does not allow from the stored one."""

    def clean_status(self) -> str:
        new_status = self.cleaned_data["status"]
        stored = self.instance
        if (
            stored.pk
            and new_status != stored.status
            and new_status not in stored.TRANSITIONS[stored.status]
        ):
            raise forms.ValidationError(
                f"The workflow does not allow {stored.get_status_display()} → "
                f"{dict(self.fields['status'].choices)[new_status]}."
            )
        return new_status


class WorkflowAdmin(SimpleHistoryAdmin):
    form = WorkflowStatusForm

    def save_model(self, request: HttpRequest, obj: models.Model, form, change: bool) -> None:
        if change and "status" in form.changed_data:
            new_status = obj.status
            obj.status = form.initial["status"]
            super().save_model(request, obj, form, change)
            obj.change_status(new_status, by=request.user, note="Changed in the admin")
        else:
            super().save_model(request, obj, form, change)
