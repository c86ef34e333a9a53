"""The knobs of the synthetic marketplace, gathered in one dataclass so they can be calibrated.

Every probability is per entity named in the field (per freelancer, per contract, …). Defaults aim at
a marketplace where roughly 45% of freelancers ever get a contract, an active freelancer has about 10
contracts and 50 payments over two years, most feedback is excellent, and about one active freelancer
in ten ends up Top Rated at `as_of` (programme.md section 3). They are guesses to be calibrated
against the evaluator: the knobs with the largest effect on the Top Rated share are marked (TR).

Measured with the project's evaluator (5,000 freelancers, seed 3, as of 2026-03-31): 2,169 have a
contract and 240 of them (11%) hold Top Rated (88 Top Rated Plus), 75 Rising Talent, 14 Expert-Vetted;
feedback is 78% excellent, 18% neutral, 4% negative. Failing criteria among the others, most common
first: 13-of-16 weeks, JSS, activity, profile, earnings, availability.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

#: Category ids of events.md with a realistic share of contracts (sums to 1; "other" is an id too).
CATEGORY_MIX: dict[str, float] = {
    "web_mobile_software_dev": 0.24,
    "design": 0.14,
    "writing": 0.12,
    "sales_marketing": 0.10,
    "admin_support": 0.09,
    "data_science_analytics": 0.06,
    "customer_service": 0.05,
    "translation": 0.05,
    "it_networking": 0.04,
    "accounting_consulting": 0.04,
    "engineering_architecture": 0.03,
    "legal": 0.02,
    "video_animation": 0.02,
}


@dataclass(frozen=True)
class SimulationSettings:
    """Distributions of the marketplace. Frozen: pass a new instance (`dataclasses.replace`) to tune."""

    # --- size and shape of the run -------------------------------------------------------------
    history_days: int = 730
    """Length of the history ending at `as_of`; every event lies in it."""
    chunk_size: int = 10_000
    """Freelancers generated together (part of the seed: changing it changes the output)."""
    workers: int = 2
    """Processes generating chunks in parallel (does not change the output)."""
    parquet_global_sort: bool = False
    """Sort Parquet output globally by time (JSON Lines always is); costs a spill and merge pass."""

    # --- who joins and who works -------------------------------------------------------------------
    early_join_share: float = 0.45
    """(TR) Freelancers already on the marketplace when the history starts (joined in its first 60 days)."""
    active_share: float = 0.45
    """Freelancers who get at least one contract (the others only join, update and send proposals)."""
    contracts_per_active: float = 10.0
    """(TR) Mean contracts of an active freelancer with a full two-year tenure."""
    activity_sigma: float = 1.1
    """Log-normal sigma of a freelancer's contract rate: larger means a longer tail of very busy people."""
    max_contracts: int = 400
    first_contract_delay_days: float = 25.0
    """Mean days between joining and the first contract (exponential)."""
    churn_share: float = 0.45
    """(TR) Active freelancers who stop working at some point of the history."""
    rehire_share: float = 0.30
    """Share of a freelancer's later contracts given by one of their earlier clients."""
    clients_per_new_contract: float = 0.55
    """Size of a chunk's client pool relative to its contracts with a new client (smaller: busier clients)."""
    client_skew: float = 2.0
    """Power of the client popularity law (1: uniform; larger: a few clients hire a lot)."""

    # --- contracts and money ---------------------------------------------------------------------
    hourly_share: float = 0.45
    long_term_share: float = 0.18
    """Hourly contracts that run 6–24 months with weekly or biweekly payments."""
    weekly_share: float = 0.7
    """Hourly contracts paid weekly (the others biweekly)."""
    hourly_weeks_median: float = 6.0
    hourly_rate_median: float = 25.0
    """(TR) Median hourly rate in USD; drives the $1,000-in-365-days criterion."""
    hourly_rate_sigma: float = 0.6
    hours_per_week_median: float = 12.0
    skipped_week_share: float = 0.08
    """Pay periods of an hourly contract with no hours (no payment)."""
    fixed_value_median: float = 300.0
    """(TR) Median total value of a fixed-price contract in USD."""
    fixed_value_sigma: float = 1.1
    fixed_days_median: float = 12.0
    category_loyalty: float = 0.85
    """Contracts in the freelancer's main category (the rest drawn from CATEGORY_MIX)."""
    category_mix: dict[str, float] = field(default_factory=lambda: dict(CATEGORY_MIX))

    # --- endings and feedback ----------------------------------------------------------------------
    cancelled_share: float = 0.05
    no_work_delivered_share: float = 0.012
    feedback_share: float = 0.82
    """Ended contracts that receive end-of-contract feedback."""
    great_freelancer_share: float = 0.20
    """(TR) Freelancers whose clients are almost always delighted (quality ~ Beta(40, 1))."""
    ordinary_quality_mean: float = 0.74
    """(TR) Mean chance of excellent feedback for the other freelancers."""
    ordinary_quality_concentration: float = 10.0
    """(TR) a + b of that Beta law: larger means fewer ordinary freelancers who are nearly always excellent."""
    negative_share_of_bad: float = 0.13
    """Among feedback that is not excellent, the share that is negative (the rest is neutral)."""
    public_only_share: float = 0.05
    private_only_share: float = 0.05

    # --- incidents ------------------------------------------------------------------------------------
    refund_share: float = 0.02
    dispute_share: float = 0.006
    dispute_share_if_negative: float = 0.08
    dispute_outcomes: tuple[float, float, float] = (0.4, 0.35, 0.25)
    """Shares of freelancer_won, freelancer_lost, settled."""
    removal_request_share: float = 0.15
    """Non-excellent feedback of freelancers with 10+ contracts for which a removal is requested."""
    flagged_client_share: float = 0.008
    hold_share: float = 0.012
    hold_lifted_share: float = 0.7
    tos_share: float = 0.004
    off_platform_share: float = 0.4

    # --- profiles, availability, activity -------------------------------------------------------------
    complete_profile_share_active: float = 0.65
    """(TR) Active freelancers whose latest profile is 100% with a photo."""
    complete_profile_share_inactive: float = 0.25
    elance_share: float = 0.01
    available_share_active: float = 0.82
    """(TR) Working freelancers whose latest availability says available."""
    available_share_other: float = 0.5
    future_return_share: float = 0.5
    """Unavailable freelancers whose return date is still ahead at `as_of`."""
    proposals_per_contract: float = 2.5
    proposals_inactive_mean: float = 3.0
    invitations_per_contract: float = 0.4
    messages_logins_mean: float = 4.0
    readiness_share: float = 0.3

    # --- agencies and manual acts ---------------------------------------------------------------
    agency_owner_share: float = 0.03
    agency_members: tuple[int, int] = (2, 10)
    agency_member_leave_share: float = 0.2
    agency_contract_share: float = 0.5
    """Contracts of an agency member (or owner), while a member, that carry the agency's id."""
    rising_talent_grant_share: float = 0.003
    expert_vetted_share: float = 0.002
    badge_revoke_share: float = 0.2

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_share") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{f.name} must be between 0 and 1, not {value}")
        if self.chunk_size < 1 or self.workers < 1 or self.history_days < 120:
            raise ValueError("chunk_size and workers must be >= 1 and history_days >= 120")
        total = sum(self.category_mix.values())
        if not self.category_mix or abs(total - 1.0) > 1e-6:
            raise ValueError(f"category_mix must sum to 1, not {total}")
