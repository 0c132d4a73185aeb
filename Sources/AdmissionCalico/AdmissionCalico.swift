// Module AdmissionCalico. See DEVELOPERS.md for its role.
