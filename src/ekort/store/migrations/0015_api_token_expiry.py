# Tokens expire (EKORT_API_TOKEN_DAYS, 90 days unless set): those issued before get 90 days
# from their issue.

from datetime import timedelta

from django.db import migrations, models
from django.db.models import F


def ninety_days_from_issue(apps, schema_editor):
    ApiToken = apps.get_model("ekort", "ApiToken")
    ApiToken.objects.update(expires_at=F("created_at") + timedelta(days=90))


class Migration(migrations.Migration):
    dependencies = [
        ("ekort", "0014_letter_approvals"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(ninety_days_from_issue, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(),
        ),
    ]
