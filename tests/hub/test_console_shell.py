"""The console's shell and shared form layout (templates/base.html, templates/django/forms/):
one vendored toolkit, no CDN, a favicon, and every form laid out the same way."""

import re

import pytest
from django import forms

VENDORED = re.compile(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"')


@pytest.mark.django_db
def test_favicon_ico_is_served_without_a_sign_in(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file's header


def test_every_stylesheet_and_script_is_a_static_file_of_hub(admin_client):
    page = admin_client.get("/").content.decode()
    assets = VENDORED.findall(page)
    assert "/static/vendor/bootstrap-5.3.9/css/bootstrap.min.css" in assets
    assert "/static/vendor/tom-select-2.6.2/js/tom-select.complete.min.js" in assets
    assert not re.search(r'(?:href|src)="(?:https?:)?//', page), "nothing from another origin (no CDN)"
    assert "<style" not in page and " style=" not in page, "no inline styles: the CSP forbids them"
    for asset in assets:
        response = admin_client.get(asset)
        assert response.status_code == 200, asset


def test_the_user_menu_links_api_tokens_and_signs_out(admin_client):
    page = admin_client.get("/").content.decode()
    assert 'href="/account/api-tokens/"' in page
    assert re.search(r'<form method="post" action="/accounts/logout/">.*Sign out', page)


def test_messages_are_alerts_in_the_flow(admin_client):
    page = admin_client.post(
        "/models/new/",
        {
            "name": "Defect",
            "fields-TOTAL_FORMS": "0",
            "fields-INITIAL_FORMS": "0",
            "fields-MIN_NUM_FORMS": "0",
            "fields-MAX_NUM_FORMS": "1000",
        },
        follow=True,
    ).content.decode()
    assert re.search(r'<div class="alert alert-success alert-dismissible[^"]*">Model “Defect” saved', page)


class Example(forms.Form):
    name = forms.CharField(help_text="What people call it.")
    kinds = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")])
    when = forms.DateField(widget=forms.DateInput)
    enabled = forms.BooleanField(required=False)
    colour = forms.ChoiceField(choices=[("r", "Red")], widget=forms.RadioSelect(attrs={"class": "inline"}))


def test_a_field_shows_label_widget_help_then_its_errors_under_it():
    html = Example(data={"kinds": ["a"]}).as_div()
    name = html[html.index('for="id_name"') :]
    label, widget, help_text, error = (
        name.index("Name"),
        name.index('<input type="text" name="name" class="form-control"'),
        name.index("What people call it."),
        name.index("This field is required."),
    )
    assert label < widget < help_text < error
    assert 'class="errorlist invalid-feedback d-block list-unstyled" id="id_name_error"' in name
    assert 'aria-invalid="true"' in name


def test_widgets_get_the_toolkit_class_of_their_kind_and_keep_their_own():
    html = str(Example())
    assert '<select name="kinds" class="form-select"' in html  # Tom Select makes it searchable
    assert '<input type="date" name="when" class="form-control"' in html
    assert re.search(
        r'<div class="form-check">\s*<input type="checkbox" name="enabled" class="form-check-input"', html
    )
    assert (
        'class="form-check-input inline" required id="id_colour_0"' in html
    )  # Django gives options the class too
    assert '<div id="id_colour" class="choices inline">' in html  # the form's own class kept


def test_as_p_gives_the_same_layout_as_as_div():
    assert Example().as_p() == Example().as_div()
