"""The one door to models: the Gateway protocol and its remote, pooled and embedded gateways."""
