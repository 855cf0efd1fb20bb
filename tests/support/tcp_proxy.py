"""The cuttable TCP forwarder lives in `devstack.tcp_proxy` (the chaos suite uses it too)."""

from devstack.tcp_proxy import TcpProxy

__all__ = ["TcpProxy"]
