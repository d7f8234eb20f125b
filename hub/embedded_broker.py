"""The embedded default's broker: kombu's filesystem transport, with each message written whole
before it can be seen.

kombu's own ``_put`` opens the final ``*.msg`` file and then writes it. A worker polling the
folder can move and read that file between the two and get an empty payload; kombu then raises
``JSONDecodeError`` out of the consumer loop, the worker exits ("Unrecoverable error") and
``runhub`` stops Hub with 30008E. It happened in a CI run with beat sending every 5 s. Here the
payload goes to a temporary name that the transport's listing ignores (it matches only
``<queue>.msg``) and is renamed into place, which is atomic within one folder."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # The same name kombu gives a message, so the order of delivery is kombu's.
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        try:
            handle, partial = tempfile.mkstemp(prefix="partial_", suffix=".tmp", dir=self.data_folder_out)
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(str_to_bytes(dumps(payload)))
                os.replace(partial, final)
            except BaseException:
                if os.path.exists(partial):
                    os.unlink(partial)
                raise
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


def transport_options(folder: Path) -> dict:
    """The embedded default's broker options, every folder under ``folder`` (created here)."""
    for sub in ("out", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "out"),
        "data_folder_out": str(folder / "out"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        # kombu polls the folder (1 s by default); a wake-up — an event hint's above all — should
        # reach an idle worker within a fraction of a second. A listing of a small folder is cheap.
        "polling_interval": 0.2,
    }
