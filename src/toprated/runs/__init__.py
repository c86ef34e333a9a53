"""Weekly runs: snapshots of every entity's badges, transitions, backfills."""
