"""The portal's blueprints: core (sign-in, health, status), rep, public (share links), marketer, reports."""
