"""Stage 1: check the dataset layout and decode every image once into uint8 arrays in the run directory.

python -m stages.s01_preprocess --run NAME --data path/to/real_or_drawing.zip [--preset simple] [--key value]
"""
from stages.core import artifacts, plots, stage
from stages.core.data import decode_layout, read_target_labels, write_cache
from stages.core.dataset import open_layout, quick_fingerprint
from stages.core.errors import run_stage


def is_cached(paths, cfg, fingerprint):
    if not paths.manifest.exists():
        return False
    manifest = artifacts.load_json(paths.manifest)
    wanted = {"input_fingerprint": fingerprint, "cached_image_size": cfg.image_size, "canny": [cfg.canny_low, cfg.canny_high]}
    return all(manifest.get(k) == v for k, v in wanted.items())


def main(argv):
    cfg, paths = stage.start(argv, "s01_preprocess", first=True)
    fingerprint = quick_fingerprint(cfg.data) if cfg.data else None
    layout = open_layout(cfg.data)  # checks the path and the layout before anything is written
    if is_cached(paths, cfg, fingerprint):
        print(f"s01_preprocess: {paths.cache} already holds this data; skipping")
    else:
        with stage.Timer(paths, "s01_preprocess"):
            arrays, manifest = decode_layout(layout, cfg.image_size, cfg.canny_low, cfg.canny_high)
            read_target_labels(cfg.target_labels, arrays["target_ids"], manifest["num_classes"])  # fail early
            manifest["input_fingerprint"] = fingerprint
            write_cache(paths, arrays, manifest)
            plots.sample_grid(arrays, paths.samples_png)
        print(f"s01_preprocess: {manifest['source_count']} photos in {manifest['num_classes']} classes, "
              f"{manifest['target_count']} doodles -> {paths.cache}")
    layout.close()
    stage.save_config(cfg, paths)


if __name__ == "__main__":
    run_stage(main)
