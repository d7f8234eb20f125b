from django.urls import path

from settings_app import (
    advanced,
    general,
    license,
    notification_views,
    route_move_views,
    storage_views,
    upgrade_backup_views,
    views,
)

urlpatterns = [
    path("", views.settings_index, name="settings"),
    path("general/", general.general, name="settings-general"),
    path("general/environment/", general.set_environment, name="settings-environment"),
    path("general/master-password/set/", general.set_master_password, name="settings-master-password-set"),
    path("general/master-password/unlock/", general.unlock, name="settings-master-password-unlock"),
    path("general/master-password/change/", general.change, name="settings-master-password-change"),
    path("general/master-password/reset/", general.reset, name="settings-master-password-reset"),
    path("general/storage/", storage_views.storage_page, name="settings-storage"),
    path("general/storage/test/", storage_views.test_connection, name="settings-storage-test"),
    path("general/storage/save/", storage_views.save, name="settings-storage-save"),
    path("general/storage/transfer/", storage_views.start, name="settings-storage-transfer"),
    path("general/storage/progress/", storage_views.transfer_progress, name="settings-storage-progress"),
    path("license/", license.license_page, name="settings-license"),
    path("license/apply/", license.apply_license, name="settings-license-apply"),
    path("notifications/", notification_views.notifications_page, name="settings-notifications"),
    path("notifications/check/<str:what>/", notification_views.check, name="settings-notifications-check"),
    path("notifications/on/", notification_views.turn, {"on": True}, name="settings-notifications-on"),
    path("notifications/off/", notification_views.turn, {"on": False}, name="settings-notifications-off"),
    path("notifications/delete/", notification_views.delete, name="settings-notifications-delete"),
    path("troubleshooting/", views.troubleshooting, name="settings-troubleshooting"),
    path("advanced/", advanced.advanced, name="settings-advanced"),
    path(
        "advanced/flow-external-changes/",
        advanced.flow_external_changes,
        name="settings-flow-external-changes",
    ),
    path("advanced/move-routes/", route_move_views.move_routes, name="settings-move-routes"),
    path(
        "advanced/upgrade-backups/upload/", upgrade_backup_views.upload, name="settings-upgrade-backup-upload"
    ),
    path(
        "advanced/upgrade-backups/<str:name>/",
        upgrade_backup_views.download,
        name="settings-upgrade-backup-download",
    ),
    path(
        "advanced/upgrade-backups/<str:name>/delete/",
        upgrade_backup_views.delete,
        name="settings-upgrade-backup-delete",
    ),
]
