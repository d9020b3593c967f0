"""Cases: every citizen contact, whether it is answered on the phone or needs field work."""
