"""The configuration domain's models, one module per element family."""

from integrations.models.collections import (
    CollectionProject,
    FieldMapping,
    GatewayCollection,
    RepositoryCollection,
    SqlCollection,
)
from integrations.models.containers import ContainerMirroring, ContainerPair
from integrations.models.engine import (
    ChangeDetectionSettings,
    ChangeWatermark,
    CreationIntent,
    SyncLock,
    WorkerHeartbeat,
)
from integrations.models.gateway import GatewayPayload
from integrations.models.integrations import Integration, Route
from integrations.models.modeling import FieldType, Model, ModelField
from integrations.models.repositories import Repository
from integrations.models.unions import ArtifactUnion

__all__ = [
    "ArtifactUnion",
    "ChangeDetectionSettings",
    "ContainerMirroring",
    "ContainerPair",
    "ChangeWatermark",
    "CreationIntent",
    "CollectionProject",
    "FieldMapping",
    "FieldType",
    "GatewayCollection",
    "GatewayPayload",
    "Integration",
    "Model",
    "ModelField",
    "Repository",
    "RepositoryCollection",
    "Route",
    "SqlCollection",
    "SyncLock",
    "WorkerHeartbeat",
]
