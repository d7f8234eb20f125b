"""The artifact union screen's form: a repository, its projects and artifact types one a line."""

from __future__ import annotations

from django import forms

from hub.forms import CleanModelForm
from integrations.models import ArtifactUnion, RepositoryCollection


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ArtifactUnionForm(CleanModelForm):
    projects_text = forms.CharField(
        label="Projects",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="One project id a line (“id: name” keeps a name for the screens).",
    )
    artifact_types_text = forms.CharField(
        label="Artifact types",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="One artifact type id a line.",
    )

    drawing = forms.ModelMultipleChoiceField(
        label="Collections that draw from it",
        queryset=RepositoryCollection.objects.all(),
        required=False,
        help_text="Their projects and artifact types become the union's when it is saved.",
    )

    class Meta:
        model = ArtifactUnion
        fields = ["name", "repository", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        union = self.instance
        self.fields["projects_text"].initial = "\n".join(
            f"{p['id']}: {p.get('name') or p['id']}" for p in union.projects or []
        )
        self.fields["artifact_types_text"].initial = "\n".join(union.artifact_types or [])
        if union.pk:
            self.fields["drawing"].initial = list(union.collections.values_list("pk", flat=True))

    def save(self, commit: bool = True):
        union = super().save(commit=commit)
        if commit:
            chosen = self.cleaned_data.get("drawing") or []
            RepositoryCollection.objects.filter(union=union).exclude(pk__in=[c.pk for c in chosen]).update(
                union=None
            )
            RepositoryCollection.objects.filter(pk__in=[c.pk for c in chosen]).update(union=union)
        return union

    def clean(self):
        cleaned = super().clean()
        projects = []
        for line in _lines(cleaned.get("projects_text", "")):
            project_id, _, name = line.partition(":")
            projects.append(
                {
                    "id": project_id.strip(),
                    "key": project_id.strip(),
                    "name": name.strip() or project_id.strip(),
                }
            )
        self.instance.projects = projects
        self.instance.artifact_types = _lines(cleaned.get("artifact_types_text", ""))
        return cleaned
