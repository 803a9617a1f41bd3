"""viewflow's own cost, for benchmark (c): a flow of the correction flow's shape (a start
from code, a human task, a switch, a second human task, a switch, the end) on viewflow's base
``Process``, driven by the same calls as ``workflows.services`` but touching no record, audit
row, permission or email. It is installed as an app only inside the benchmark
(``modify_settings``), because viewflow resolves a flow class through its app."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow import lock
from viewflow.workflow.models import Process
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

APP = "tests.benchmarks"


def _always(activation: Any) -> bool:
    return True


def _never(activation: Any) -> bool:
    return False


class FloorFlow(flow.Flow):
    process_class = Process
    lock_impl = lock.select_for_update_lock

    start = flow.StartHandle(this.start_process).Next(this.first)
    first = flow.View(this.task_view).Next(this.after_first)
    after_first = flow.Switch().Case(this.second, _always).Default(this.end)
    second = flow.View(this.task_view).Next(this.after_second)
    after_second = flow.Switch().Case(this.first, _never).Default(this.end)
    end = flow.End()

    def start_process(self, activation: Any, **kwargs: Any) -> Any:
        return activation.process

    def task_view(self, request: Any, **kwargs: Any) -> Any:
        raise NotImplementedError  # driven from code only


def start() -> Any:
    with transaction.atomic():
        return FloorFlow.start.run()


def open_task(process: Any, node: Any) -> int:
    pk: int = Task.objects.get(process=process, flow_task=node, status=STATUS.NEW).pk
    return pk


def decide(task_pk: int, user: Any) -> None:
    """What ``workflows.services.task_decide`` asks of viewflow: claim, start, complete."""
    task = Task.objects.get(pk=task_pk)
    with task.activation() as activation:
        activation.assign(user)
        activation.start(None)
        activation.execute()
