// Module CalicoAPI. See DEVELOPERS.md for its role.
