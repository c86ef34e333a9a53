"""The programme file: every threshold, window and weight of spec/programme.md, as typed settings.

The shipped `upwork.toml` is the default; `--programme FILE` loads another. Unknown keys and bad
values fail with the key's dotted path and the reason, so an operator can fix the file.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from toprated.errors import UserError

PositiveInt = Annotated[int, Field(gt=0)]
Money = Annotated[Decimal, Field(ge=0, decimal_places=2)]
Percent = Annotated[int, Field(ge=0, le=100)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Outcome(_Section):
    """§1 "Outcome of an eligible contract" (thresholds ours)."""

    negative_public_below: float = Field(ge=1, le=5)
    negative_private_at_most: int = Field(ge=0, le=10)
    successful_public_at_least: float = Field(ge=1, le=5)
    successful_private_at_least: int = Field(ge=0, le=10)
    rehire_counts_as_successful: bool = True
    long_term_without_feedback_successful: bool = True


class WeightTier(_Section):
    up_to: Money
    weight: Annotated[Decimal, Field(gt=0, decimal_places=2)]


class Weight(_Section):
    """§1 "Weight" and §10 "Weight": by earnings tier, plus one per full span step, capped."""

    tiers: list[WeightTier]
    above: Annotated[Decimal, Field(gt=0, decimal_places=2)]
    span_step_days: PositiveInt
    max: Annotated[Decimal, Field(gt=0, decimal_places=2)]

    @field_validator("tiers")
    @classmethod
    def _ascending(cls, tiers: list[WeightTier]) -> list[WeightTier]:
        if [t.up_to for t in tiers] != sorted({t.up_to for t in tiers}):
            raise ValueError("tiers must have strictly ascending `up_to`")
        return tiers


class Jss(_Section):
    """§1 Job Success Score."""

    windows_months: list[PositiveInt] = Field(min_length=1)
    min_contracts: PositiveInt
    min_clients: PositiveInt
    long_term_min_payments: PositiveInt
    long_term_min_span_days: int = Field(ge=0)
    long_term_max_gap_days: PositiveInt
    long_term_recent_days: PositiveInt
    outcome: Outcome
    weight: Weight


class AgencyRisingTalent(_Section):
    min_members: PositiveInt
    member_profiles_min_average: Percent


class RisingTalent(_Section):
    """§2 Rising Talent."""

    activity_days: PositiveInt
    joined_recently_days: int = Field(ge=0)
    negative_outcome_lookback_months: PositiveInt
    agency: AgencyRisingTalent


class AgencyTopRated(_Section):
    min_jss: Percent
    min_owner_jss: Percent
    min_members: PositiveInt
    min_earnings_12m: Money
    member_profiles_min_average: Percent
    first_contract_min_days: int = Field(ge=0)


class TopRated(_Section):
    """§3 Top Rated."""

    min_jss: Percent
    first_contract_min_days: int = Field(ge=0)
    weeks_required: PositiveInt
    weeks_window: PositiveInt
    week_days: PositiveInt
    min_earnings_12m: Money
    earnings_days: PositiveInt
    activity_days: PositiveInt
    agency: AgencyTopRated

    @model_validator(mode="after")
    def _weeks(self) -> TopRated:
        if self.weeks_required > self.weeks_window:
            raise ValueError("weeks_required cannot exceed weeks_window")
        return self


class TopRatedPlus(_Section):
    """§4 Top Rated Plus; `large_contract` maps category ids to thresholds, `other` for the rest."""

    min_earnings_12m: Money
    agency_min_earnings_12m: Money
    large_contract_payment_days: PositiveInt
    large_contract: dict[str, Money]

    @field_validator("large_contract")
    @classmethod
    def _has_other(cls, v: dict[str, Money]) -> dict[str, Money]:
        if "other" not in v:
            raise ValueError("needs an `other` threshold for categories not listed")
        return v

    def threshold_for(self, category: str) -> Decimal:
        return self.large_contract.get(category, self.large_contract["other"])


class Profile(_Section):
    """§6/§10 "Profile"."""

    required_completeness: Percent
    elance_required_completeness: Percent
    photo_required: bool = True


class Standing(_Section):
    """§6 "Good standing" and §10 "Holds", "Violations"."""

    hold_cooldown_days: int = Field(ge=0)
    violation_months: int = Field(ge=0)
    off_platform_ban_months: int = Field(ge=0)


class AgencyBadge(_Section):
    member_min_profile: Percent


class FeedbackRemoval(_Section):
    """§7 "Feedback removal"."""

    min_months_between: int = Field(ge=0)
    min_completed_contracts_between: int = Field(ge=0)


class Projection(_Section):
    horizon_days: int = Field(ge=0, le=3660)


class Programme(_Section):
    """A whole programme file."""

    name: str = Field(min_length=1)
    title: str = ""
    jss: Jss
    rising_talent: RisingTalent
    top_rated: TopRated
    top_rated_plus: TopRatedPlus
    profile: Profile
    standing: Standing
    agency_badge: AgencyBadge
    feedback_removal: FeedbackRemoval
    projection: Projection

    @property
    def lookback_days(self) -> int:
        """Days before an as-of date whose state the weekly rule reads."""
        return (self.top_rated.weeks_window - 1) * self.top_rated.week_days


def _describe(exc: ValidationError, source: str) -> str:
    lines = [f"programme file {source} is not valid:"]
    for e in exc.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        lines.append(f"  {key}: {msg}")
    return "\n".join(lines)


def load_programme(path: Path | str | None = None) -> Programme:
    """Load a programme file; None loads the shipped default (`upwork.toml`)."""
    if path is None:
        text = resources.files("toprated.programme").joinpath("upwork.toml").read_text("utf-8")
        source = "upwork.toml (shipped)"
    else:
        p = Path(path)
        try:
            text = p.read_text("utf-8")
        except OSError as exc:
            raise UserError(f"cannot read programme file {p}: {exc.strerror}") from None
        source = str(p)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"programme file {source} is not valid TOML: {exc}") from None
    try:
        return Programme.model_validate(raw)
    except ValidationError as exc:
        raise UserError(_describe(exc, source)) from None
