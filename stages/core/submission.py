"""Write and check a Kaggle submission: header id,label, one row per test image, sorted by id."""
import io

import numpy as np
import pandas as pd

from .errors import UserError


def submission_text(target_ids, labels):
    order = np.argsort(target_ids, kind="stable")
    table = pd.DataFrame({"id": np.asarray(target_ids)[order], "label": np.asarray(labels)[order]})
    return table.to_csv(index=False, lineterminator="\n")


def validate_submission(text, target_ids, num_classes, origin="submission"):
    """Raise UserError unless text is a complete, well-formed submission for these test ids."""
    try:
        table = pd.read_csv(io.StringIO(text))
    except Exception as error:
        raise UserError(f"{origin} is not a readable CSV ({error})") from None
    if list(table.columns) != ["id", "label"]:
        raise UserError(f"{origin}: header must be id,label, found {','.join(map(str, table.columns))}")
    if len(table) != len(target_ids):
        raise UserError(f"{origin}: {len(table)} rows for {len(target_ids)} test images")
    if not np.array_equal(table["id"].to_numpy(), np.sort(np.asarray(target_ids))):
        raise UserError(f"{origin}: ids are not exactly the test image ids in ascending order")
    labels = table["label"].to_numpy()
    if not pd.api.types.is_integer_dtype(table["label"]) or labels.min() < 0 or labels.max() >= num_classes:
        raise UserError(f"{origin}: labels must be whole numbers in 0..{num_classes - 1}")
    return table


def histogram_line(labels, num_classes):
    counts = np.bincount(labels, minlength=num_classes)
    return " ".join(f"{c}:{n}" for c, n in enumerate(counts))
