"""How the domain's value objects are written into stored events and snapshots."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.persistence import Transcoding

from domain.policy import Policy
from domain.values import JobApplication, PersonalData


class PersonalDataAsDict(Transcoding):
    type = PersonalData
    name = "personal_data"

    def encode(self, obj: PersonalData) -> dict[str, Any]:
        return obj.to_dict()

    def decode(self, data: dict[str, Any]) -> PersonalData:
        return PersonalData.from_dict(data)


class JobApplicationAsDict(Transcoding):
    type = JobApplication
    name = "job_application"

    def encode(self, obj: JobApplication) -> dict[str, Any]:
        return obj.to_dict()

    def decode(self, data: dict[str, Any]) -> JobApplication:
        return JobApplication.from_dict(data)


class PolicyAsDict(Transcoding):
    type = Policy
    name = "policy"

    def encode(self, obj: Policy) -> dict[str, Any]:
        return obj.to_dict()

    def decode(self, data: dict[str, Any]) -> Policy:
        return Policy.from_dict(data)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


ALL = (PersonalDataAsDict, JobApplicationAsDict, PolicyAsDict, DateAsISO)
