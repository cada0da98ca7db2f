"""The accounts' pages: choose a first password from an invitation, forgot and reset a
password, change it, log out everywhere."""

from flask import Blueprint

bp = Blueprint("accounts", __name__, template_folder="templates")
