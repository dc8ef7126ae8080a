"""Interrupted loops resume from their snapshot and end bit for bit where an uninterrupted run ends."""

from __future__ import annotations

import pytest
import torch

from workloads.data.addmul import AddMulConfig
from workloads.data.scan import ScanConfig
from workloads.fit import MaskFitConfig, fit_mask
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
