"""The task queue's database backend: django-tasks-db's, its rows inserted without the ORM's compile.

Every checkout queues its confirmation email, whose task row is written in the checkout's own
transaction (`bookstore.mail`). django-tasks-db writes it with `QuerySet.create()`, which
compiles the INSERT each time: a tenth of a checkout's Python CPU went to queueing the email
(py-spy under gunicorn, 2026-12-04). This backend writes the same row with
`bookstore.inserts.row_insert`, compiled once and prepared on PostgreSQL, and is otherwise
django-tasks-db's own: the worker (`db_worker`), results and admin are unchanged.
"""

from typing import Any

from django_tasks_db import DatabaseBackend as _DatabaseBackend
from django_tasks_db.compat import normalize_json
from django_tasks_db.models import DBTaskResult, get_date_max

from bookstore.inserts import row_insert


class DatabaseBackend(_DatabaseBackend):
    def _task_to_db_task(self, task: Any, args: Any, kwargs: Any) -> DBTaskResult:
        # The row `_DatabaseBackend._task_to_db_task` creates. Its model's one pre_save receiver,
        # which row_insert does not send, gives a task with no `run_after` the latest date.
        result: DBTaskResult = DBTaskResult(
            id=self._get_id(),
            args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after if task.run_after is not None else get_date_max(),
            backend_name=self.alias,
        )
        row_insert(result)
        return result
