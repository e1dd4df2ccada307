from __future__ import annotations

from django.db import models


class CardOffice(models.Model):
    """Kortkontor: a card office where holders are photographed and cards activated (R7, R18)."""

    name = models.CharField(max_length=200)
    town = models.CharField(max_length=100, db_index=True)
    street_address = models.CharField(max_length=200)
    postal_code = models.CharField(max_length=6)
    phone = models.CharField(max_length=30, blank=True)

    def __str__(self) -> str:
        return f"{self.name}, {self.town}"


class OpeningInterval(models.Model):
    office = models.ForeignKey(CardOffice, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField()  # 0 = Monday
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="weekday_0_to_6"),
            models.CheckConstraint(
                condition=models.Q(opens__lt=models.F("closes")), name="opens_before_closes"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday}: {self.opens:%H:%M}-{self.closes:%H:%M}"


class OpeningException(models.Model):
    """A day that differs from the week's pattern: a holiday (closed) or other hours."""

    office = models.ForeignKey(CardOffice, on_delete=models.CASCADE, related_name="exceptions")
    day = models.DateField()
    opens = models.TimeField(null=True, blank=True)  # both empty: closed all day
    closes = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["day", "opens"]

    def __str__(self) -> str:
        return f"{self.day}: {self.note or 'exception'}"
