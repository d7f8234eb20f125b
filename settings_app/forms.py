from django import forms

from hub import logconfig


class LoggingLevelForm(forms.Form):
    level = forms.ChoiceField(
        choices=[
            (logconfig.NORMAL, "Normal"),
            (logconfig.TROUBLESHOOTING, "Troubleshooting (verbose, for two hours)"),
        ],
        widget=forms.RadioSelect,
    )
