// Module NetworkingCalico. See DEVELOPERS.md for its role.
