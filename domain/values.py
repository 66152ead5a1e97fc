"""Value objects held by the account and carried by its events."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from domain.rules import OPEN_APPLICATION_STATES


@dataclass(frozen=True)
class PersonalData:
    """Every personal field in one value, so that protecting them is one place.

    Events carry it whole or not at all: ``Registered`` holds the identity,
    events with free text (notes, pause reasons) hold only ``notes``.
    """

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    birth_date: date | None = None
    notes: str | None = None
    name_kana: str | None = None
    """The name's reading in katakana (``domain.kana``), when it was given."""

    def to_dict(self) -> dict[str, Any]:
        data = {
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "notes": self.notes,
        }
        if self.name_kana is not None:
            # Only when given: what was sealed before readings existed, and
            # every registration without one, keep their exact bytes.
            data["name_kana"] = self.name_kana
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PersonalData:
        birth_date = data.get("birth_date")
        return cls(
            name=data.get("name"),
            email=data.get("email"),
            phone=data.get("phone"),
            birth_date=date.fromisoformat(birth_date) if birth_date else None,
            notes=data.get("notes"),
            name_kana=data.get("name_kana"),
        )


@dataclass(frozen=True)
class JobApplication:
    """One application of the account, numbered A1, A2, … in order."""

    id: str
    job: str
    route: str
    status: str
    applied_at: datetime
    interview_at: datetime | None = None
    interview_round: int | None = None
    final_round: bool = False
    outcome: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_APPLICATION_STATES

    def moved(self, status: str, **changes: Any) -> JobApplication:
        return replace(self, status=status, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "job": self.job,
            "route": self.route,
            "status": self.status,
            "applied_at": self.applied_at.isoformat(),
            "interview_at": self.interview_at.isoformat()
            if self.interview_at
            else None,
            "interview_round": self.interview_round,
            "final_round": self.final_round,
            "outcome": self.outcome,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobApplication:
        interview_at = data.get("interview_at")
        return cls(
            id=data["id"],
            job=data["job"],
            route=data["route"],
            status=data["status"],
            applied_at=datetime.fromisoformat(data["applied_at"]),
            interview_at=datetime.fromisoformat(interview_at) if interview_at else None,
            interview_round=data.get("interview_round"),
            final_round=bool(data.get("final_round")),
            outcome=data.get("outcome"),
        )
