"""mail2alert test lab: a private Postfix on loopback, a capturing SMTP sink,
a GoCD stand-in, GoCD-shaped mail and a milter process wrapper.

Standard library only (plus pytest in tests/system).  Reused by the system
tests, `make demo` and benchmarks.

    from tests.lab import PostfixInstance, SmtpSink, GocdStandIn, MilterProcess
"""

from .postfix import PostfixInstance, PostfixError, free_port, wait_port
from .sink import SmtpSink, SinkMessage
from .gocd import GocdStandIn
from .gocdmail import (stage_mail, plain_mail, stage_subject, send, SendResult,
                       SmtpSendError, EVENT_TEXT)
from .milter import (MilterProcess, MilterError, check_config, parse_socket,
                     postfix_milter_spec)
from .redis import RedisServer, RedisError, TcpProxy

__all__ = [
    "PostfixInstance", "PostfixError", "free_port", "wait_port",
    "SmtpSink", "SinkMessage",
    "GocdStandIn",
    "stage_mail", "plain_mail", "stage_subject", "send", "SendResult",
    "SmtpSendError", "EVENT_TEXT",
    "MilterProcess", "MilterError", "check_config", "parse_socket",
    "postfix_milter_spec",
    "RedisServer", "RedisError", "TcpProxy",
]
