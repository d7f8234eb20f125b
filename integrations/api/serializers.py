"""Serializers of the configuration API. They validate through the same functions and forms as
the screens, so a request refused by the console is refused here with the same code."""

from __future__ import annotations

import copy

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from extensions.models import Extension, ExtensionType
from hub.api import CleanModelSerializer
from integrations import container_mirroring, services, validation
from integrations.forms.collections import FieldMappingForm, other_lines
from integrations.forms.repositories import kind_choices
from integrations.models import (
    ContainerMirroring,
    FieldMapping,
    FieldType,
    GatewayCollection,
    Integration,
    Model,
    ModelField,
    Repository,
    RepositoryCollection,
    Route,
    SqlCollection,
)
from integrations.models.integrations import repeated_route
from integrations.secrets import is_set


def named(queryset, help_text: str, **kwargs) -> serializers.SlugRelatedField:
    """An optional reference to a configuration element by its name (null: none)."""
    return serializers.SlugRelatedField(
        slug_field="name", queryset=queryset, allow_null=True, required=False, help_text=help_text, **kwargs
    )


@extend_schema_field(
    {
        "oneOf": [{"type": "string", "writeOnly": True}, {"type": "boolean", "readOnly": True}],
        "description": "Write the secret as a string; reads say only whether one is stored.",
    }
)
class SecretStatusField(serializers.Field):
    """Write-only secret: written in clear, read back only as whether one is stored."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return is_set(value)

    def to_internal_value(self, data):
        if data is not None and not isinstance(data, str):
            raise serializers.ValidationError("A secret is a string.")
        return data


class RepositorySerializer(CleanModelSerializer):
    password = SecretStatusField(help_text="Write-only; reads say whether one is stored.")
    token = SecretStatusField(help_text="Write-only; reads say whether one is stored.")
    proxy_password = SecretStatusField(help_text="Write-only; reads say whether one is stored.")
    kind = serializers.ChoiceField(
        choices=[],
        error_messages={"invalid_choice": "CCRRTT-30003E: there is no connector kind “{input}”."},
    )
    collections = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    state = serializers.ChoiceField(
        choices=["disabled", "failing", "connected", "not tested"],
        read_only=True,
        help_text="failing: the last test, or a running integration's last connection, failed "
        "(last_test_code says how).",
    )

    class Meta:
        model = Repository
        fields = [
            "id",
            "label",
            "kind",
            "url",
            "auth_method",
            "username",
            "password",
            "token",
            "use_proxy",
            "proxy_url",
            "proxy_username",
            "proxy_password",
            "allow_insecure",
            "timeout",
            "events_per_minute",
            "extra",
            "enabled",
            "needs_new_credentials",
            "last_test_code",
            "last_test_message",
            "last_test_at",
            "state",
            "collections",
        ]
        read_only_fields = ["needs_new_credentials", "last_test_code", "last_test_message", "last_test_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kind_choices()
        if (
            self.instance is not None
            and not isinstance(self.instance, list | tuple)
            and hasattr(self.instance, "pk")
        ):
            self.fields["kind"].read_only = True

    def validate(self, attrs):
        attrs = super().validate(attrs)
        for name in Repository.SECRET_FIELDS:
            if attrs.get(name) in (None, ""):
                attrs.pop(name, None)  # absent or empty keeps the stored secret, as on the screen
        if attrs.get("password") or attrs.get("token"):
            attrs["needs_new_credentials"] = False
        return attrs


class ModelFieldSerializer(CleanModelSerializer):
    id = serializers.CharField(source="key")

    class Meta:
        model = ModelField
        fields = ["id", "label", "type", "required", "options"]

    def validate(self, attrs):
        # Under PATCH nested fields are optional, but a field of the list is always written whole.
        required = ("id", "label")
        missing = {name: ["This field is required."] for name in required if self._source(name) not in attrs}
        if missing:
            raise serializers.ValidationError(missing)
        return super().validate(attrs)

    def _source(self, name: str) -> str:
        return self.fields[name].source


class ModelSerializer(CleanModelSerializer):
    model_fields = ModelFieldSerializer(source="fields", many=True, required=False)
    collections = serializers.SlugRelatedField(
        source="repository_collections", many=True, read_only=True, slug_field="name"
    )

    class Meta:
        model = Model
        fields = ["id", "name", "description", "model_fields", "collections"]

    def validate_model_fields(self, value):
        keys = [f["key"] for f in value]
        if len(keys) != len(set(keys)):
            raise serializers.ValidationError("Field ids must be unique within a model.")
        return value

    def _save_fields(self, model, fields):
        keep = []
        for position, values in enumerate(fields):
            field, _ = ModelField.objects.update_or_create(
                model=model, key=values["key"], defaults={**values, "position": position}
            )
            keep.append(field.pk)
        model.fields.exclude(pk__in=keep).delete()

    def create(self, validated_data):
        fields = validated_data.pop("fields", [])
        model = Model.objects.create(**validated_data)
        self._save_fields(model, fields)
        return model

    def update(self, instance, validated_data):
        fields = validated_data.pop("fields", None)
        instance = super().update(instance, validated_data)
        if fields is not None:
            self._save_fields(instance, fields)
        return instance


class ProjectSerializer(serializers.Serializer):
    id = serializers.CharField(source="project_id")
    key = serializers.CharField(required=False, allow_blank=True)
    name = serializers.CharField(required=False, allow_blank=True)
    invalid = serializers.BooleanField(read_only=True)
    replacement_id = serializers.CharField(read_only=True)
    replacement_name = serializers.CharField(read_only=True)
    problem_code = serializers.CharField(
        read_only=True, help_text="CCRRTT-1105E or CCRRTT-1109E from the last refresh; empty: none."
    )
    problem = serializers.CharField(read_only=True)


class RepositoryCollectionSerializer(CleanModelSerializer):
    projects = ProjectSerializer(
        many=True, required=False, help_text="Chosen from the repository's live list."
    )
    repository = serializers.SlugRelatedField(slug_field="label", queryset=Repository.objects.all())
    model = serializers.SlugRelatedField(
        slug_field="name", queryset=Model.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = RepositoryCollection
        fields = ["id", "name", "repository", "model", "projects", "artifact_types", "query"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if (
            self.instance is not None
            and "repository" in attrs
            and attrs["repository"] != self.instance.repository
        ):
            raise serializers.ValidationError({"repository": "A collection's repository cannot change."})
        projects = attrs.get("projects")
        if projects is not None:
            from connectors.errors import ConnectorError

            repository = attrs.get("repository") or self.instance.repository
            kept = set(self.instance.project_ids()) if self.instance else set()
            try:
                live = {p.id: p for p in services.live_projects(repository)}
            except ConnectorError as error:
                raise serializers.ValidationError({"projects": str(error)}) from None
            chosen = [p["project_id"] for p in projects]
            if len(chosen) != len(set(chosen)):
                raise serializers.ValidationError({"projects": "Each project is chosen once."})
            unknown = [
                p["project_id"]
                for p in projects
                if p["project_id"] not in live and p["project_id"] not in kept
            ]
            if unknown:
                raise serializers.ValidationError(
                    {"projects": f"CCRRTT-1110E: the repository has no project(s) {', '.join(unknown)}."}
                )
            attrs["projects"] = [
                {"id": p["project_id"], "key": live[p["project_id"]].key, "name": live[p["project_id"]].name}
                if p["project_id"] in live
                else {"id": p["project_id"], "key": p.get("key", ""), "name": p.get("name", "")}
                for p in projects
            ]
        return attrs

    def create(self, validated_data):
        projects = validated_data.pop("projects", [])
        collection = RepositoryCollection.objects.create(**validated_data)
        services.set_projects(collection, projects)
        return collection

    def update(self, instance, validated_data):
        projects = validated_data.pop("projects", None)
        instance = super().update(instance, validated_data)
        if projects is not None:
            services.set_projects(instance, projects)
        return instance


class FieldMappingSerializer(CleanModelSerializer):
    """Validated by the mapping screen's form against the live schema and the model."""

    class Meta:
        model = FieldMapping
        fields = [
            "id",
            "repository_fields",
            "model_fields",
            "direction",
            "transform",
            "params",
            "repository_field_types",
            "model_field_types",
        ]
        read_only_fields = ["repository_field_types", "model_field_types"]

    def validate(self, attrs):
        from connectors.errors import ConnectorError

        attrs = super().validate(attrs)  # the shapes (FieldMapping.clean) before the form reads them
        collection = self.context["collection"]
        if collection.model_id is None:
            raise serializers.ValidationError("CCRRTT-1404E: the collection is not mapped to a model yet.")
        try:
            schema = services.field_schema(collection)
        except ConnectorError as error:
            raise serializers.ValidationError(str(error)) from None
        current = self.instance if isinstance(self.instance, FieldMapping) else None

        def given(name, default):
            return attrs.get(name, getattr(current, name) if current is not None else default)

        params = given("params", {}) or {}
        maps = {name: params.get(name) or {} for name in ("to_model", "to_repository")}
        if any(not isinstance(value, dict) for value in maps.values()):
            raise serializers.ValidationError({"params": "Value maps are objects: value → value."})
        data = {
            "repository_fields": given("repository_fields", []),
            "model_fields": given("model_fields", []),
            "direction": given("direction", FieldMapping.Direction.BOTH),
            "transform": given("transform", "copy"),
            **{name: params.get(name, "") for name in ("value", "separator", "container_type")},
            **{name: params.get(name, "") for name in ("to_model_default", "to_repository_default")},
            **{name: "\n".join(f"{k} = {v}" for k, v in value.items()) for name, value in maps.items()},
            # Custom data transformations, by name; offered only where their types fit, in order.
            "to_model_extension": params.get("to_model_extension", ""),
            "to_repository_extension": params.get("to_repository_extension", ""),
        }
        model_fields = list(collection.model.fields.all())
        form = FieldMappingForm(
            data,
            schema=schema,
            model_fields=model_fields,
            others=other_lines(collection, model_fields, self.instance),
        )
        if not form.is_valid():
            raise serializers.ValidationError({k: list(v) for k, v in form.errors.items()})
        self.form = form
        return attrs

    def create(self, validated_data):
        return self.form.save(self.context["collection"])

    def update(self, instance, validated_data):
        return self.form.save(self.context["collection"], instance)


class GatewayCollectionSerializer(CleanModelSerializer):
    """Name, model, payload transformation and Relationship Field Configuration, judged by the
    screen's form (``GatewayCollectionForm``: 20004E, 20005E, 20006E). The token is never read back:
    creation and ``rotate-token`` answer it once."""

    model = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Model.objects.all(),
        error_messages={"required": "CCRRTT-20005E: a gateway collection must have a model."},
    )
    extension = named(
        Extension.objects.filter(type=ExtensionType.PAYLOAD_TRANSFORMATION),
        "The payload transformation extension (transformPayload) by name; null: a payload must already "
        "be shaped like the model. Licensed feature (CCRRTT-20006E).",
    )
    relationship_repositories = serializers.DictField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Relationship Field Configuration: for each Relationship(s) field of the model, its "
        "id → the id of the repository it points to (CCRRTT-20004E while one is missing).",
    )
    has_token = serializers.SerializerMethodField(
        help_text="Whether a token is set; the token itself is shown only when made."
    )

    class Meta:
        model = GatewayCollection
        fields = ["id", "name", "model", "extension", "relationship_repositories", "has_token"]

    def get_has_token(self, obj) -> bool:
        return bool(obj.token_hash)

    def validate(self, attrs):
        from integrations.forms.collections import RELATIONSHIP_PREFIX, GatewayCollectionForm

        attrs = super().validate(attrs)
        instance = self.instance if isinstance(self.instance, GatewayCollection) else None
        current = (
            (lambda name, default=None: getattr(instance, name, default))
            if instance
            else (lambda name, default=None: default)
        )
        model = attrs.get("model", current("model"))
        extension = attrs.get("extension", current("extension"))
        relationships = {
            key
            for key, kind in (model.fields.values_list("key", "type") if model is not None else [])
            if kind in (FieldType.RELATIONSHIP, FieldType.RELATIONSHIPS)
        }
        if "relationship_repositories" in attrs:
            given = attrs["relationship_repositories"]
            unknown = sorted(set(given) - relationships)
            if unknown:
                raise serializers.ValidationError(
                    {
                        "relationship_repositories": [
                            f"“{key}” is no Relationship(s) field of the model." for key in unknown
                        ]
                    }
                )
        else:  # as stored, for the fields the (possibly new) model still has
            stored = current("relationship_repositories") or {}
            given = {key: value for key, value in stored.items() if key in relationships}
        data = {
            "name": attrs.get("name", current("name", "")),
            "model": model.pk if model is not None else "",
            "extension": extension.pk if extension is not None else "",
            **{RELATIONSHIP_PREFIX + key: str(value) for key, value in given.items()},
        }
        form = GatewayCollectionForm(
            data, instance=instance or GatewayCollection(), model_id=data["model"] or None
        )
        if not form.is_valid():
            errors: dict[str, list[str]] = {}
            for name, messages in form.errors.items():
                field = "relationship_repositories" if name.startswith(RELATIONSHIP_PREFIX) else name
                errors.setdefault("non_field_errors" if field == "__all__" else field, []).extend(messages)
            raise serializers.ValidationError(errors)
        attrs["relationship_repositories"] = {
            field.key: int(form.cleaned_data[name]) for field, name in form.relationship_fields
        }
        return attrs


class GatewayTokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    token = serializers.CharField(help_text="The new token; shown this once, only its digest is kept.")


class SqlCollectionSerializer(CleanModelSerializer):
    password = SecretStatusField(help_text="Write-only; reads say whether one is stored.")
    model = named(Model.objects.all(), "The model reported on, one column per field (10006E while none).")

    class Meta:
        model = SqlCollection
        fields = ["id", "name", "database_url", "password", "table", "model"]

    def validate(self, attrs):
        from integrations import eds

        attrs = super().validate(attrs)
        if attrs.get("password") in (None, ""):
            attrs.pop("password", None)
        refused = eds.operational_database_refusal(attrs.get("database_url", ""))
        if refused:
            raise serializers.ValidationError({"database_url": [refused]})
        return attrs


class TableSerializer(serializers.Serializer):
    ddl = serializers.CharField(help_text="The CREATE TABLE statement Hub proposes for the model.")
    digest = serializers.CharField(help_text="Send it back as ``confirm`` to run this statement.")


class TableConfirmationSerializer(serializers.Serializer):
    confirm = serializers.CharField(help_text="The digest of the statement read with GET.")


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "array", "items": {"type": "string"}},
        ],
        "nullable": True,
        "description": "What the field is compared with: a list for “in”, a date (YYYY-MM-DD) for "
        "“before”/“after”, nothing for “is_empty”.",
    }
)
class ConditionValueField(serializers.JSONField):
    pass


class RouteConditionSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="Key of a field of the integration's model.")
    operator = serializers.ChoiceField(choices=validation.FILTER_OPERATORS)
    value = ConditionValueField(required=False, allow_null=True, default=None)


@extend_schema_field(RouteConditionSerializer)
class RouteConditionField(serializers.Field):
    """A route's condition, or null for a route every artifact of its project takes."""

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None

    def to_internal_value(self, data):
        if data in (None, {}):
            return {}
        condition = RouteConditionSerializer(data=data)
        condition.is_valid(raise_exception=True)
        return dict(condition.validated_data)

    def validate_empty_values(self, data):
        if data is None:
            return True, {}
        return super().validate_empty_values(data)


class RouteSerializer(CleanModelSerializer):
    """Routes are tried in the order of the list; the first leaving the artifact's project whose
    condition holds decides the target project."""

    condition = RouteConditionField(
        help_text="Only artifacts meeting this condition take the route; null: every artifact."
    )

    class Meta:
        model = Route
        fields = ["project_a", "project_b", "direction", "condition"]


class BlockerSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    related = serializers.JSONField()


class ContainerConditionSerializer(RouteConditionSerializer):
    type = serializers.CharField(help_text="The artifact type a container meeting it is created as.")


class ContainerMirroringSerializer(serializers.Serializer):
    """How a Container + Work Item integration mirrors containers (docs/containers.md)."""

    container_types_a = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Artifact types that are containers in A."
    )
    container_types_b = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Artifact types that are containers in B."
    )
    parent_field = serializers.CharField(
        required=False, help_text="The model field (type Container) that holds an artifact's container."
    )
    matching = serializers.ChoiceField(choices=ContainerMirroring.Matching.choices, required=False)
    match_field = serializers.CharField(required=False, help_text="Containers with equal values are paired.")
    conditions = ContainerConditionSerializer(
        many=True, required=False, help_text="Shared Container Mirroring: the first that holds gives the type"
    )
    unmatched = serializers.ChoiceField(choices=ContainerMirroring.Unmatched.choices, required=False)
    default_type = serializers.CharField(required=False, allow_blank=True)


STREAM_ONLY = ("gateway_collection", "sql_collection", "more_sources", "key_identifier", "twinless_update")


class IntegrationSerializer(CleanModelSerializer):
    collection_a = serializers.SlugRelatedField(
        slug_field="name", queryset=RepositoryCollection.objects.all(), allow_null=True, required=False
    )
    collection_b = serializers.SlugRelatedField(
        slug_field="name", queryset=RepositoryCollection.objects.all(), allow_null=True, required=False
    )
    routes = RouteSerializer(many=True, required=False)
    container_mirroring = ContainerMirroringSerializer(
        required=False,
        allow_null=True,
        help_text="Container + Work Item style only; null: none (the integration cannot run).",
    )
    gateway_collection = named(
        GatewayCollection.objects.all(),
        "Gateway style: the source (required). Enterprise Data Stream: a source besides the repository "
        "collections.",
    )
    sql_collection = named(
        SqlCollection.objects.all(), "Enterprise Data Stream: the target (CCRRTT-10004E without one)."
    )
    more_sources = serializers.SlugRelatedField(
        slug_field="name",
        queryset=RepositoryCollection.objects.all(),
        many=True,
        required=False,
        help_text="Enterprise Data Stream: repository collections streamed besides collection A.",
    )
    state = serializers.SerializerMethodField()
    blockers = serializers.SerializerMethodField()

    class Meta:
        model = Integration
        fields = [
            "id",
            "name",
            "style",
            "collection_a",
            "collection_b",
            "gateway_collection",
            "sql_collection",
            "more_sources",
            "key_identifier",
            "twinless_update",
            "routes",
            "container_mirroring",
            "unmatched_routing",
            "creation_flow",
            "filters",
            "field_flows",
            "conflict_strategy",
            "comment_flow",
            "attachment_flow",
            "detection_interval",
            "detection_cron",
            "full_scan_cron",
            "running",
            "state",
            "blockers",
            "last_change_detected",
            "last_artifact_processed",
        ]
        read_only_fields = ["running", "last_change_detected", "last_artifact_processed"]

    def get_state(self, obj) -> str:
        return services.state(obj).state

    def get_blockers(self, obj) -> list[dict]:
        return BlockerSerializer(validation.problems_of_integration(obj.pk), many=True).data

    def validate(self, attrs):
        attrs = super().validate(attrs)  # Integration.clean: schedules, filters, flows, collections
        instance = self.instance if isinstance(self.instance, Integration) else None
        style = attrs.get("style", instance.style if instance else Integration.Style.WORK_ITEM_SYNC)
        streams = (Integration.Style.GATEWAY, Integration.Style.ENTERPRISE_DATA_STREAM)
        if (
            instance is not None
            and style != instance.style
            and streams.count(style) + streams.count(instance.style)
        ):
            raise serializers.ValidationError(
                {"style": "A Gateway or Enterprise Data Stream integration keeps its style."}
            )
        if style in streams:
            return self._validate_stream(attrs, Integration.Style(style), instance)
        given = [name for name in STREAM_ONLY if attrs.get(name)]
        if given:
            raise serializers.ValidationError(
                {name: "Only a Gateway or Enterprise Data Stream integration has this." for name in given}
            )
        a = attrs.get("collection_a", getattr(self.instance, "collection_a", None))
        b = attrs.get("collection_b", getattr(self.instance, "collection_b", None))
        if a is not None and a == b:
            raise serializers.ValidationError({"collection_b": "Collection B must differ from collection A."})
        if self.instance is None:
            missing = {
                n: "Both collections are required."
                for n, c in (("collection_a", a), ("collection_b", b))
                if c is None
            }
            if missing:
                raise serializers.ValidationError(missing)
        refused = {}
        for name, code, message in validation.collection_pair_problems(a, b):
            refused.setdefault(name, []).append(f"{code}: this integration {message}.")
        if refused and ("collection_a" in attrs or "collection_b" in attrs):
            raise serializers.ValidationError(refused)
        routes = attrs.get("routes") or []
        repeated = repeated_route(routes)
        if repeated:
            raise serializers.ValidationError({"routes": repeated})
        self._check_route_conditions(routes, a or b)
        if attrs.get("container_mirroring") is not None:
            self._check_container_mirroring(attrs, a, b)
        return attrs

    def _validate_stream(self, attrs, style, instance):
        """A Gateway or EDS integration is judged by the screen's form (``StreamIntegrationForm``):
        its collections and settings, with the validators' codes (1405E, 1410E, 1416E, 20000E,
        20004E–20007E, 67001E, 10004E–10008E, 30015E) under the field each concerns."""
        from integrations.forms.integrations import STREAM_FIELDS, StreamIntegrationForm

        names = STREAM_FIELDS[style]
        foreign = [
            name
            for name in ("collection_a", "collection_b", "more_sources", "sql_collection", "routes")
            if name not in names and attrs.get(name)
        ]
        if attrs.get("container_mirroring"):
            foreign.append("container_mirroring")
        if foreign:
            raise serializers.ValidationError(
                {name: f"A {style.label} integration has no such setting." for name in foreign}
            )

        def value(name):
            return attrs[name] if name in attrs else getattr(instance, name, None) if instance else None

        data: dict = {}
        for name in names:
            if name == "more_sources":
                more = attrs.get("more_sources", list(instance.more_sources.all()) if instance else [])
                data[name] = [collection.pk for collection in more]
            elif name in ("collection_a", "collection_b", "gateway_collection", "sql_collection"):
                data[name] = value(name).pk if value(name) is not None else ""
            elif name == "style":
                data[name] = style.value
            elif name == "twinless_update":
                if value(name):
                    data[name] = "on"  # a checkbox: absent is off
            else:
                data[name] = "" if value(name) is None else value(name)
        form = StreamIntegrationForm(data, instance=copy.copy(instance) or Integration(), style=style)
        if not form.is_valid():
            raise serializers.ValidationError(
                {
                    ("non_field_errors" if name == "__all__" else name): list(messages)
                    for name, messages in form.errors.items()
                }
            )
        return attrs

    def _check_container_mirroring(self, attrs, a, b):
        """The screen's rules and codes (``integrations.container_mirroring``), field by field."""
        candidate = Integration(pk=getattr(self.instance, "pk", None), collection_a=a, collection_b=b)
        for name in ("style", "creation_flow"):  # as written, else as stored, else the model's default
            setattr(candidate, name, attrs.get(name, getattr(self.instance, name, getattr(candidate, name))))
        if candidate.style != Integration.Style.CONTAINER_WORK_ITEM:
            raise serializers.ValidationError(
                {"container_mirroring": "Only a Container + Work Item integration mirrors containers."}
            )
        settings = {
            key: [dict(c) for c in value] if key == "conditions" else value
            for key, value in attrs["container_mirroring"].items()
        }
        _, errors = container_mirroring.checked(candidate, settings)
        if errors:
            renamed = {("non_field_errors" if k == "non_field" else k): v for k, v in errors.items()}
            raise serializers.ValidationError({"container_mirroring": renamed})
        attrs["container_mirroring"] = settings

    def _save_container_mirroring(self, integration, validated_data):
        if "container_mirroring" not in validated_data:
            return
        settings = validated_data["container_mirroring"]
        if settings is None:
            container_mirroring.remove(integration)
        else:
            container_mirroring.save(integration, settings)
        # The answer reads the integration's cached row (select_related), which is now stale.
        relation = Integration._meta.get_field("container_mirroring")
        if relation.is_cached(integration):
            relation.delete_cached_value(integration)

    def _check_route_conditions(self, routes, collection):
        """A condition the screen would refuse is refused here, with the same code and words."""
        model = collection.model if collection is not None else None
        fields = {f.key: f for f in model.fields.all()} if model is not None else {}
        for number, route in enumerate(routes, start=1):
            condition = route.get("condition")
            if not condition:
                continue
            if model is None:
                raise serializers.ValidationError(
                    {"routes": f"Route {number}: a condition needs collections mapped to a model first."}
                )
            problem = validation.condition_problem(condition, fields)
            if problem:
                raise serializers.ValidationError(
                    {"routes": f"CCRRTT-1412E: route {number}: the condition {problem}."}
                )

    def _save_routes(self, integration, routes):
        integration.routes.all().delete()
        Route.objects.bulk_create(
            Route(integration=integration, position=position, **route)
            for position, route in enumerate(routes)
        )

    def create(self, validated_data):
        routes = validated_data.pop("routes", [])
        mirroring = {k: validated_data.pop(k) for k in ["container_mirroring"] if k in validated_data}
        more_sources = validated_data.pop("more_sources", [])
        if "field_flows" not in validated_data:  # as on the screen: what the mappings allow
            validated_data["field_flows"] = validation.mapped_flows(
                validated_data.get("collection_a"), validated_data.get("collection_b")
            )
        integration = Integration.objects.create(**validated_data)
        if more_sources:
            integration.more_sources.set(more_sources)
        self._save_routes(integration, routes)
        self._save_container_mirroring(integration, mirroring)
        return integration

    def update(self, instance, validated_data):
        routes = validated_data.pop("routes", None)
        mirroring = {k: validated_data.pop(k) for k in ["container_mirroring"] if k in validated_data}
        instance = super().update(instance, validated_data)
        if routes is not None:
            self._save_routes(instance, routes)
        self._save_container_mirroring(instance, mirroring)
        return instance


class StateSerializer(serializers.Serializer):
    state = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    blockers = BlockerSerializer(many=True)


class ConnectionResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    code = serializers.CharField(help_text="Catalog code of the failure; empty when connected.")
    message = serializers.CharField()


class PreviewArtifactSerializer(serializers.Serializer):
    side = serializers.CharField(help_text="A or B: the side the artifact is on.")
    artifact_id = serializers.CharField()
    formatted_id = serializers.CharField()
    summary = serializers.CharField()
    project = serializers.CharField()
    outcome = serializers.ChoiceField(
        choices=["create", "associate", "update", "unchanged", "filtered", "not created", "ignored", "fail"]
    )
    target_project = serializers.CharField(help_text="Where its twin would be created (or is).")
    twin = serializers.CharField(help_text="The twin an update or an association writes to.")
    code = serializers.CharField(help_text="Catalog code of the failure; empty otherwise.")
    message = serializers.CharField()
    writes = serializers.DictField(help_text="Target repository field → the value Run would write.")


class PreviewCreationSerializer(serializers.Serializer):
    side = serializers.CharField()
    collection = serializers.CharField()
    project = serializers.CharField()
    count = serializers.IntegerField()


class PreviewSideFailureSerializer(serializers.Serializer):
    side = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class PreviewSerializer(serializers.Serializer):
    """What Run would do, from reads only (``integrations.engine.preview``)."""

    limit = serializers.IntegerField(help_text="Artifacts read per side at most.")
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Artifacts per outcome.")
    creations = PreviewCreationSerializer(many=True)
    truncated = serializers.DictField(child=serializers.BooleanField(), help_text="Side → more in scope.")
    failures = PreviewSideFailureSerializer(many=True, help_text="Sides that could not be listed.")
    artifacts = PreviewArtifactSerializer(many=True)

    @staticmethod
    def of(result) -> dict:
        return {
            "limit": result.limit,
            "counts": result.counts,
            "creations": [
                {"side": side, "collection": collection, "project": project, "count": n}
                for side, collection, project, n in result.creations
            ],
            "truncated": result.truncated,
            "failures": result.failures,
            "artifacts": [
                {**vars(a), "writes": {k: _json_value(v) for k, v in a.writes.items()}}
                for a in result.artifacts
            ],
        }


def _json_value(value):
    """A connector value as JSON (dates as ISO text, durations in seconds, links as objects)."""
    import dataclasses
    import datetime as dt

    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value
