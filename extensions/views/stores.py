"""Settings → Extensions → Manage Key-Value Stores: stores, their pairs, and import from a file."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from extensions import kvstores
from extensions.forms import ImportForm, PairForm, StoreForm
from extensions.licensing import refusal_of_stores
from extensions.models import MAX_PAIRS, KeyValuePair, KeyValueStore, digest
from integrations.snapshots import ElementType
from integrations.views.common import change, delete, refuse


def _refused(request) -> bool:
    refused = refusal_of_stores()
    if refused is not None:
        refuse(request, f"{refused.code}: Key-value stores cannot be used: {refused.message}")
        return True
    return False


def store_list(request):
    stores = KeyValueStore.objects.all()
    return render(
        request,
        "extensions/store_list.html",
        {"stores": [(s, s.pairs.count()) for s in stores], "refused": refusal_of_stores()},
    )


def store_new(request):
    form = StoreForm(request.POST or None)
    if request.method == "POST" and not _refused(request) and form.is_valid():
        with change(request, ElementType.KEY_VALUE_STORE) as rec:
            rec.done(form.save())
        messages.success(request, f"Key-value store “{rec.obj.name}” created.")
        return redirect("kv-store-edit", rec.obj.pk)
    return render(request, "extensions/store_new.html", {"form": form})


def store_edit(request, pk: int):
    store = get_object_or_404(KeyValueStore, pk=pk)
    form = PairForm(request.POST or None)
    if request.method == "POST" and not _refused(request) and form.is_valid():
        key, value = form.cleaned_data["key"], form.cleaned_data["value"]
        pair = KeyValuePair.objects.filter(store=store, key_digest=digest(key)).first()
        if pair is None and store.pairs.count() >= MAX_PAIRS:
            refuse(request, f"A store holds at most {MAX_PAIRS:,} pairs; “{store.name}” is full.")
            return redirect("kv-store-edit", pk)
        with change(request, ElementType.KEY_VALUE_STORE, store) as rec:
            pair = pair or KeyValuePair(store=store, key=key)
            pair.store = store
            kvstores.set_value(pair, value)
            pair.save()
            store.save(update_fields=["updated"])
            rec.done(store)
        messages.success(request, f"“{key}” saved.")
        return redirect("kv-store-edit", pk)
    return render(
        request,
        "extensions/store_form.html",
        {
            "store": store,
            "pairs": store.pairs.all(),
            "form": form,
            "import_form": ImportForm(),
            "max_pairs": MAX_PAIRS,
            "erased": store.confidential and store.pairs.filter(sealed__isnull=True).exists(),
        },
    )


@require_POST
def pair_delete(request, pk: int, pair_pk: int):
    store = get_object_or_404(KeyValueStore, pk=pk)
    pair = get_object_or_404(KeyValuePair, pk=pair_pk, store=store)
    with change(request, ElementType.KEY_VALUE_STORE, store) as rec:
        pair.delete()
        rec.done(store)
    messages.success(request, f"“{pair.key}” removed.")
    return redirect("kv-store-edit", pk)


@require_POST
def store_import(request, pk: int):
    store = get_object_or_404(KeyValueStore, pk=pk)
    if _refused(request):
        return redirect("kv-store-edit", pk)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        refuse(request, "Choose a .csv or .json file to import.")
        return redirect("kv-store-edit", pk)
    upload = form.cleaned_data["file"]
    try:
        if upload.size > kvstores.MAX_IMPORT_BYTES:
            raise kvstores.ImportRefused(
                f"The file is larger than {kvstores.MAX_IMPORT_BYTES // (1024 * 1024)} MB."
            )
        pairs = kvstores.parse(upload.name, upload.read())
        with change(request, ElementType.KEY_VALUE_STORE, store) as rec:
            total = kvstores.replace_pairs(store, pairs)
            rec.done(store)
    except kvstores.ImportRefused as error:
        refuse(request, f"Nothing was imported: {error}")
        return redirect("kv-store-edit", pk)
    messages.success(request, f"{len(pairs)} pair(s) imported from {upload.name}; the store holds {total}.")
    return redirect("kv-store-edit", pk)


@require_POST
def store_delete(request, pk: int):
    store = get_object_or_404(KeyValueStore, pk=pk)
    delete(request, ElementType.KEY_VALUE_STORE, store)
    messages.success(request, f"Key-value store “{store.name}” deleted.")
    return redirect("kv-stores")
