"""Train the demo config's classifiers (classify.models quality and domain) on the text the demo
ships (samples/classifier/*.jsonl.gz): what `make models` does, from any directory.

    curate demo-models                  # where the demo config names them: out/models/{quality,domain} here
    curate demo-models --conf my.yaml   # where my.yaml's classify.models names them
    curate demo-models --force          # retrain models already there

Without --conf: conf/default.yaml when present, else the demo config installed with the package, as
`curate run` does. Each model goes to the directory the config's classify.models gives it, so the run
that follows finds it; one already there (its model.json) is kept unless --force. Hyper-parameters
come from the config's train_classifier section (`curate train-classifier` for your own models).
"""
from __future__ import annotations

import sys
from pathlib import Path

from jobs import train_classifier
from pipeline import demo
from pipeline.cli import default_conf, run_main, tool_parser
from pipeline.config import ConfigError, load_config
from pipeline.io import is_remote


def main(argv: list[str] | None = None) -> int:
    parser = tool_parser("demo_models", __doc__)
    parser.add_argument("--conf", metavar="FILE",
                        help="run config whose classify.models are trained (default: conf/default.yaml when "
                             "present, else the demo config installed with the package)")
    parser.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], dest="overrides",
                        help="override one config key (dotted), repeatable, e.g. --set classify.models.quality=m/q")
    parser.add_argument("--force", action="store_true", help="retrain models whose model.json is already there")

    def job() -> int:
        args = parser.parse_args(argv)
        conf = args.conf or default_conf(demo_fallback=True)
        config = load_config(conf, args.overrides, stage_files=False)
        where = conf or "<defaults>"
        names = [name for name in config.classify.models if demo.classifier_text(name) is not None]
        if not names:
            raise ConfigError(f"{where}: key 'classify.models' names no demo classifier "
                              f"({', '.join(sorted(config.classify.models)) or 'none'}; the demo has quality "
                              "and domain): train your own with `curate train-classifier`")
        for name in names:
            target = config.classify.models[name]
            if is_remote(target):
                raise ConfigError(f"{where}: key 'classify.models.{name}': '{target}' is not a local "
                                  "directory: train locally, then copy the model there")
            if (Path(target) / "model.json").is_file() and not args.force:
                print(f"{name}: already trained in {target} (--force retrains)")
                continue
            command = ["--input", str(demo.classifier_text(name)), "--output", target]
            command += ["--conf", str(conf)] if conf else []
            command += [arg for item in args.overrides for arg in ("--set", item)]
            status = train_classifier.main(command)
            if status:
                return status
            print(f"{name}: trained in {target}")
        return 0

    return run_main(job)


if __name__ == "__main__":
    sys.exit(main())
