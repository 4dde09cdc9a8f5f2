"""Running the issuance network: every role in one event loop (LocalNetwork) or as processes (`yakuba up`)."""

from yakuba.network._roles import RoleInstance, find_instance, health_caller, role_module
from yakuba.network.local import LocalNetwork
from yakuba.network.ports import free_port_block

__all__ = ["LocalNetwork", "RoleInstance", "find_instance", "free_port_block", "health_caller", "role_module"]
