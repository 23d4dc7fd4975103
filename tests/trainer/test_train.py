import json

import pytest
import torch

from tests.trainer.corpus import english_documents, write_random_shards, write_text_shards
from trainer.checkpoint import load_checkpoint
from trainer.config import load_trainer_config
from trainer.train import lr_at, main

CONF = "conf/train/tiny.yaml"


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    root = tmp_path_factory.mktemp("text")
    write_text_shards(root / "train", english_documents(120, seed=0), num_shards=2)
    write_text_shards(root / "valid", english_documents(10, seed=1), num_shards=1)
    return root


def records(out, key="loss"):
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r[key] for r in lines if key in r}


@pytest.mark.slow
def test_loss_falls_on_real_text(text, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["--conf", CONF, "--data", str(text / "train"), "--valid", str(text / "valid"),
                 "--out", str(out), "--steps", "30", "--set", "train.log_interval=1"]) == 0
    losses = records(out)
    assert sorted(losses) == list(range(1, 31))
    first, last = losses[1], sum(losses[i] for i in range(26, 31)) / 5
    assert first == pytest.approx(torch.log(torch.tensor(320.0)).item(), abs=0.3)   # ~uniform over the vocab
    assert last < first - 1.0
    evals = records(out, "eval_loss")
    assert sorted(evals) == [10, 20, 30] and evals[30] < evals[10] < first
    printed = capsys.readouterr().out
    assert "step     30/30 | loss" in printed and "tok/s" in printed and "data wait" in printed
    checkpoint = load_checkpoint(out / "checkpoint.pt")
    assert checkpoint["step"] == 30 and checkpoint["config"]["model"]["vocab_size"] == 320   # 300 rounded to 64
    assert {"model", "optimizer", "sampler", "rng"} <= set(checkpoint)


def test_resume_continues_exactly(text, tmp_path):
    args = ["--conf", CONF, "--data", str(text / "train"), "--steps", "12", "--set", "train.log_interval=1",
            "--set", "train.ckpt_interval=0", "--set", "train.batch_size=4"]
    assert main(args + ["--out", str(tmp_path / "straight")]) == 0
    assert main(args + ["--out", str(tmp_path / "split"), "--stop-at", "5"]) == 0
    assert load_checkpoint(tmp_path / "split" / "checkpoint.pt")["step"] == 5
    assert main(args + ["--out", str(tmp_path / "split"), "--resume"]) == 0
    straight, split = records(tmp_path / "straight"), records(tmp_path / "split")
    assert sorted(split) == list(range(1, 13))
    for step in range(6, 13):
        assert split[step] == pytest.approx(straight[step], abs=1e-6), step
    assert straight[12] != straight[6]                   # the comparison is not trivially constant


def run_error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    return code, err


def test_corrupted_shard_stops_with_a_clear_error(text, tmp_path, capsys):
    broken = tmp_path / "broken"
    write_text_shards(broken, english_documents(20), num_shards=2)
    (broken / "00000.ds").write_bytes((broken / "00000.ds").read_bytes()[:-4])       # truncated
    code, err = run_error(capsys, ["--conf", CONF, "--data", str(broken), "--out", str(tmp_path / "o")])
    assert code == 2
    assert err.startswith("error: ") and "00000.ds" in err and "truncated" in err and "\n" not in err
    assert not (tmp_path / "o" / "checkpoint.pt").exists()


def test_missing_shard_dir(tmp_path, capsys):
    code, err = run_error(capsys, ["--conf", CONF, "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert code == 2 and "no manifest" in err and "nope" in err


def test_vocab_mismatch(tmp_path, capsys):
    write_random_shards(tmp_path / "big", vocab=1000, documents=30, max_len=200)
    code, err = run_error(capsys, ["--conf", CONF, "--data", str(tmp_path / "big"), "--out", str(tmp_path / "o"),
                                   "--set", "model.vocab_size=512"])
    assert code == 2 and "model.vocab_size 512 < vocab_size 1000" in err


def test_mixing_shards_of_two_tokenizers_is_refused(text, tmp_path, capsys):
    write_random_shards(tmp_path / "rand", vocab=300, documents=30, max_len=200)
    code, err = run_error(capsys, ["--conf", CONF, "--data", str(text / "train"), str(tmp_path / "rand"),
                                   "--out", str(tmp_path / "o")])
    assert code == 2 and "tokenized differently" in err


def test_existing_checkpoint_needs_resume(text, tmp_path, capsys):
    args = ["--conf", CONF, "--data", str(text / "train"), "--out", str(tmp_path / "o"), "--steps", "1"]
    assert main(args) == 0
    code, err = run_error(capsys, args)
    assert code == 2 and "--resume" in err


def test_bad_config_key(text, tmp_path, capsys):
    code, err = run_error(capsys, ["--conf", CONF, "--data", str(text / "train"), "--set", "train.lrr=1.0"])
    assert code == 2 and "unknown key 'train.lrr'" in err


def test_help_explains_the_cli(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--conf", "--data", "--weights", "--valid", "--out", "--steps", "--resume", "torchrun"):
        assert option in text


def test_lr_schedule_warms_up_then_decays_to_the_floor():
    config = load_trainer_config(CONF, ["train.lr=1.0", "train.warmup_steps=4", "train.steps=20",
                                        "train.min_lr_ratio=0.1"])
    lrs = [lr_at(step, config) for step in range(20)]
    assert lrs[:4] == [0.25, 0.5, 0.75, 1.0]
    assert all(a >= b for a, b in zip(lrs[3:], lrs[4:]))
    assert lrs[-1] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + torch.cos(torch.tensor(torch.pi * 15 / 16)).item()))
    assert lr_at(20, config) == pytest.approx(0.1)


def test_grad_accumulation_equals_one_big_batch(text, tmp_path):
    common = ["--conf", CONF, "--data", str(text / "train"), "--steps", "6", "--set", "train.log_interval=1"]
    assert main(common + ["--out", str(tmp_path / "big"), "--set", "train.batch_size=8"]) == 0
    assert main(common + ["--out", str(tmp_path / "accum"), "--set", "train.batch_size=4",
                          "--set", "train.grad_accum=2"]) == 0
    big, accum = records(tmp_path / "big"), records(tmp_path / "accum")
    assert big[6] < big[1]
    for step in range(1, 7):
        assert accum[step] == pytest.approx(big[step], abs=1e-5), step


@pytest.mark.slow
def test_torchrun_ddp_matches_one_process(text, tmp_path):
    """Two gloo ranks of batch 4 read one global batch of 8: the same losses as one process."""
    import os
    import shutil
    import subprocess
    import sys

    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    if torchrun is None:
        pytest.skip("torchrun not installed beside this Python")
    common = ["--conf", CONF, "--data", str(text / "train"), "--steps", "4", "--set", "train.log_interval=1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([torchrun, "--nproc_per_node", "2", "--master_port", "29517", "-m", "trainer.train", *common,
                    "--out", str(tmp_path / "ddp"), "--set", "train.batch_size=4"], check=True, env=env,
                   capture_output=True, timeout=120)
    assert main(common + ["--out", str(tmp_path / "one"), "--set", "train.batch_size=8"]) == 0
    ddp, one = records(tmp_path / "ddp"), records(tmp_path / "one")
    assert sorted(ddp) == [1, 2, 3, 4]
    for step in ddp:
        assert ddp[step] == pytest.approx(one[step], abs=1e-5), step
