"""Interrupted loops resume from their snapshot and end bit for bit where an uninterrupted run ends."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from workloads.data.addmul import AddMulConfig
from workloads.data.scan import ScanConfig
from workloads.fit import FitRequest, MaskFitConfig, fit_mask, fit_masks
from workloads.models.fnn import FeedforwardConfig
from workloads.models.seq2seq_lstm import Seq2SeqLSTMConfig
from workloads.resume import Checkpointer, LoopInterrupted, NonFiniteLoss
from workloads.train import TrainingConfig, train_model


def _task():
    return AddMulConfig(train_size=600, validation_size=100).build()


def _model(task):
    torch.manual_seed(0)
    return FeedforwardConfig(hidden_sizes=[16, 16]).build(task)


def _interrupt_after(stop_step: int, every: int, saved: list):
    """A checkpointer that asks the loop to stop once `stop_step` steps are done."""
    steps = iter(range(1, 10_000))
    return Checkpointer(
        every=every, save=saved.append, should_stop=lambda: next(steps) >= stop_step
    )


@pytest.mark.parametrize("official_clipping", [False, True])
def test_resumed_mask_fit_equals_uninterrupted_fit_bit_for_bit(official_clipping: bool):
    task = _task()
    config = MaskFitConfig(
        steps=30,
        batch_size=32,
        log_every=5,
        checkpoint_every=10,
        grad_clip=0.01 if official_clipping else 1.0,
        clip_includes_frozen_gradients=official_clipping,  # the checkpoint keeps their sums
    )
    model = _model(task)
    whole = fit_mask(model, task, "add", config, seed=4)

    saved: list = []
    with pytest.raises(LoopInterrupted) as stopped:
        fit_mask(
            _model(task), task, "add", config, seed=4, checkpointer=_interrupt_after(17, 10, saved)
        )
    assert stopped.value.step == 17
    assert [state.step for state in saved] == [10, 17]
    resumed = fit_mask(_model(task), task, "add", config, seed=4, resume_from=saved[-1])

    assert whole.logits.keys() == resumed.logits.keys()
    assert all(torch.equal(whole.logits[n], resumed.logits[n]) for n in whole.logits)
    assert resumed.history == whole.history
    assert [point["step"] for point in resumed.history] == [5, 10, 15, 20, 25, 30]


def _same_fits(a, b) -> None:
    for ours, other in zip(a, b, strict=True):
        assert ours.logits.keys() == other.logits.keys()
        assert all(torch.equal(ours.logits[n], other.logits[n]) for n in ours.logits)
        assert ours.history == other.history


@pytest.mark.parametrize("vectorize", [False, True])
def test_resumed_batch_of_fits_equals_uninterrupted_batch_bit_for_bit(vectorize: bool):
    task = _task()
    config = MaskFitConfig(steps=20, batch_size=32, log_every=5, checkpoint_every=10)
    other = config.model_copy(update={"regularization_weight": 1e-2})
    requests = [FitRequest("add", config, seed=4), FitRequest("mul", other, seed=4, data_seed=7)]
    whole = fit_masks(_model(task), task, requests, vectorize=vectorize)

    saved: list[list] = [[], []]
    checkpointed = [
        replace(requests[0], checkpointer=_interrupt_after(13, 10, saved[0])),
        replace(requests[1], checkpointer=Checkpointer(10, saved[1].append)),
    ]
    with pytest.raises(LoopInterrupted) as stopped:
        fit_masks(_model(task), task, checkpointed, vectorize=vectorize)
    assert stopped.value.step == 13
    assert [[state.step for state in fit] for fit in saved] == [[10, 13], [10, 13]]  # each fit
    resumed = [replace(r, resume_from=fit[-1]) for r, fit in zip(requests, saved, strict=True)]
    _same_fits(fit_masks(_model(task), task, resumed, vectorize=vectorize), whole)


def test_a_fit_in_a_batch_saves_the_checkpoint_it_would_save_alone():
    task = _task()
    config = MaskFitConfig(steps=10, batch_size=32, log_every=5)
    batch: list = []
    requests = [
        FitRequest("mul", config, seed=2),
        FitRequest("add", config, seed=3, checkpointer=Checkpointer(5, batch.append)),
    ]
    fit_masks(_model(task), task, requests, vectorize=False)
    alone: list = []
    fit_mask(_model(task), task, "add", config, seed=3, checkpointer=Checkpointer(5, alone.append))
    ours, single = batch[0], alone[0]
    assert ours.step == single.step == 5 and ours.history == single.history
    for field in ("parameters", "generators"):
        mine, theirs = getattr(ours, field), getattr(single, field)
        assert mine.keys() == theirs.keys()
        assert all(torch.equal(mine[name], theirs[name]) for name in mine), field
    assert ours.optimizer["param_groups"] == single.optimizer["param_groups"]
    assert ours.optimizer["state"].keys() == single.optimizer["state"].keys()
    for index, entries in single.optimizer["state"].items():
        assert all(torch.equal(ours.optimizer["state"][index][k], v) for k, v in entries.items())
    # so a fit stopped alone resumes in a batch, and the other way round
    resumed = fit_masks(_model(task), task, [replace(requests[1], resume_from=single)])
    _same_fits(resumed, [fit_mask(_model(task), task, "add", config, seed=3)])


def test_fits_resumed_from_different_steps_are_refused_as_one_batch():
    task = _task()
    config = MaskFitConfig(steps=10, batch_size=32, log_every=5, checkpoint_every=5)
    saved: list = []
    fit_mask(_model(task), task, "add", config, seed=1, checkpointer=Checkpointer(5, saved.append))
    requests = [
        FitRequest("add", config, seed=1, resume_from=saved[0]),
        FitRequest("add", config, seed=1, resume_from=saved[1]),
    ]
    with pytest.raises(ValueError, match="same step"):
        fit_masks(_model(task), task, requests)


def test_resumed_training_equals_uninterrupted_training():
    task = _task()
    config = TrainingConfig(steps=25, batch_size=32, log_every=5, checkpoint_every=10)
    whole_model = _model(task)
    whole = train_model(whole_model, task, config, seed=2)

    saved: list = []
    with pytest.raises(LoopInterrupted):
        train_model(
            _model(task), task, config, seed=2, checkpointer=_interrupt_after(12, 10, saved)
        )
    torch.manual_seed(123)  # whatever happens in between must not matter
    resumed_model = _model(task)
    resumed = train_model(resumed_model, task, config, seed=2, resume_from=saved[-1])

    assert resumed == whole
    for (name, a), (_, b) in zip(
        whole_model.state_dict().items(), resumed_model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


def test_periodic_checkpoints_do_not_change_the_result():
    task = _task()
    config = MaskFitConfig(steps=12, batch_size=32, log_every=4, checkpoint_every=3)
    plain = fit_mask(_model(task), task, "mul", config, seed=1)
    saved: list = []
    checked = fit_mask(
        _model(task), task, "mul", config, seed=1, checkpointer=Checkpointer(3, saved.append)
    )
    assert [state.step for state in saved] == [3, 6, 9, 12]
    assert all(torch.equal(plain.logits[n], checked.logits[n]) for n in plain.logits)


def test_diverging_training_raises_a_clear_error():
    task = _task()
    config = TrainingConfig(
        steps=10, batch_size=32, log_every=5, optimizer="sgd", learning_rate=1e30, grad_clip=None
    )
    with pytest.raises(NonFiniteLoss, match="lower learning_rate"):
        train_model(_model(task), task, config, seed=0)


def test_resumed_scan_mask_fit_keeps_the_teacher_forcing_coins():
    # a resumed job builds its task afresh: the coin generator must come from the checkpoint
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny net: more threads only wait on each other
    try:
        config = MaskFitConfig(
            steps=6, batch_size=8, grad_clip=5.0, log_every=1, checkpoint_every=3
        )

        def fit(**resume):
            task = ScanConfig().build()  # teacher forcing p = 0.5
            torch.manual_seed(0)
            model = Seq2SeqLSTMConfig(hidden_size=8, layers=1, embedding_size=4).build(task)
            return fit_mask(model, task, "simple", config, seed=2, **resume)

        whole = fit()
        saved: list = []
        with pytest.raises(LoopInterrupted):
            fit(checkpointer=_interrupt_after(3, 3, saved))
        resumed = fit(resume_from=saved[-1])
        assert all(torch.equal(whole.logits[n], resumed.logits[n]) for n in whole.logits)
        assert resumed.history == whole.history
    finally:
        torch.set_num_threads(threads)
