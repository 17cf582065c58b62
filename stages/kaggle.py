"""Kaggle: download the competition data, or upload a run's submission after checking it.

python -m stages.kaggle download [--dest data] [--competition ml2023spring-hw11]
python -m stages.kaggle submit --run NAME -m "message" [--competition ml2023spring-hw11]

Needs the optional `kaggle` package (pip install kaggle) and an API token: Kaggle > Settings >
API > Create New Token, saved as ~/.kaggle/kaggle.json (or KAGGLE_USERNAME and KAGGLE_KEY set).
"""
import argparse
import os
import zipfile
from pathlib import Path

import numpy as np

from stages.core import artifacts
from stages.core.errors import UserError, run_stage
from stages.core.submission import validate_submission

COMPETITION = "ml2023spring-hw11"
SETUP = ("pip install kaggle, then save your API token (Kaggle > Settings > API > Create New Token) "
         "as ~/.kaggle/kaggle.json, or set KAGGLE_USERNAME and KAGGLE_KEY")


def has_credentials():
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    folder = Path(os.environ.get("KAGGLE_CONFIG_DIR") or Path.home() / ".kaggle")
    return (folder / "kaggle.json").exists()


def kaggle_api():
    """An authenticated KaggleApi, or one UserError line saying how to set it up."""
    try:
        from kaggle.api.kaggle_api_extended import KaggleApi
    except ImportError:
        raise UserError(f"the kaggle package is not installed: {SETUP}") from None
    if not has_credentials():
        raise UserError(f"no Kaggle API token found: {SETUP}")
    api = KaggleApi()
    api.authenticate()
    return api


def download(args):
    api = kaggle_api()
    dest = Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    api.competition_download_files(args.competition, path=str(dest), quiet=False)
    archive = dest / f"{args.competition}.zip"
    if archive.exists():
        with zipfile.ZipFile(archive) as outer:
            outer.extractall(dest)
    print(f"kaggle: downloaded {args.competition} into {dest}; run: bash run_all.sh --data {dest}")


def submit(args):
    paths = artifacts.RunPaths(args.run)
    submission = artifacts.require(paths.submission, "s06_write_submission")
    manifest = artifacts.load_json(artifacts.require(paths.manifest, "s01_preprocess"))
    target_ids = np.load(paths.cache_array("target_ids"))
    validate_submission(submission.read_text(), target_ids, manifest["num_classes"], origin=str(submission))
    api = kaggle_api()
    api.competition_submit(str(submission), args.message, args.competition)
    print(f"kaggle: submitted {submission} to {args.competition}")


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m stages.kaggle", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--competition", default=COMPETITION)
    commands = parser.add_subparsers(dest="command", required=True)
    get = commands.add_parser("download", help="download and unzip the competition data")
    get.add_argument("--dest", default="data")
    put = commands.add_parser("submit", help="check and upload submissions/<run>.csv")
    put.add_argument("--run", required=True)
    put.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    (download if args.command == "download" else submit)(args)


if __name__ == "__main__":
    run_stage(main)
