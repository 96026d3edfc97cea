"""The demo WWSF's users: a JSON file of accounts, each with the IMS
identities a token for it carries and a salted scrypt hash of its password
(never the password itself); and guest identities taken from the WWSF's
IMPU range.

  {"accounts": [{"user": "alice", "impu": "sip:alice@ims.test",
                 "impi": "alice@ims.test", "password": "scrypt$N$r$p$SALT$HASH"}]}

Make a hash with:  /usr/bin/python3 deploy/demo/wwsf_accounts.py --hash"""
import base64
import getpass
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1


def _b64(b):
    return base64.b64encode(b).decode()


def hash_password(password, salt=None):
    salt = salt or os.urandom(16)
    h = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                       maxmem=64 * 1024 * 1024, dklen=32)
    return "scrypt$%d$%d$%d$%s$%s" % (SCRYPT_N, SCRYPT_R, SCRYPT_P, _b64(salt), _b64(h))


def check_password(stored, password):
    """True when password matches the stored scrypt hash (constant-time compare)."""
    try:
        scheme, n, r, p, salt, want = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r),
                             p=int(p), maxmem=64 * 1024 * 1024, dklen=len(base64.b64decode(want)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(want))


class Accounts:
    def __init__(self, path, guest_range):
        with open(path) as f:
            doc = json.load(f)
        self.users = {}
        for a in doc["accounts"]:
            if not all(isinstance(a.get(k), str) and a[k] for k in ("user", "impu", "impi", "password")):
                raise ValueError("%s: account %r lacks user, impu, impi or password" % (path, a))
            self.users[a["user"]] = a
        # A dummy hash, so that an unknown user costs as much as a wrong password.
        self._dummy = hash_password(secrets.token_hex(8))
        self.guest_range = guest_range
        if guest_range and (guest_range.count("*") != 1 or "@" not in guest_range or
                            guest_range.index("*") > guest_range.index("@")):
            raise ValueError("guest range %r: one '*' in the user part expected" % guest_range)
        self._guests = set()
        self._lock = threading.Lock()
        # scrypt takes 16 MiB and tens of ms: a few sign-ins at a time.
        self._hashing = threading.BoundedSemaphore(4)

    def sign_in(self, user, password):
        """The identities of user when password is right, else None."""
        a = self.users.get(user)
        with self._hashing:
            ok = check_password(a["password"] if a else self._dummy, password)
        if not (a and ok):
            return None
        return {"user": user, "impu": a["impu"], "impi": a["impi"], "guest": False}

    def guest(self):
        """A fresh guest identity from the range (sip:guest-*@ims.test gives
        sip:guest-<n>@ims.test), unique among the guests of this run."""
        if not self.guest_range:
            return None
        with self._lock:
            while True:
                n = str(1000 + secrets.randbelow(9000))
                if n not in self._guests:
                    self._guests.add(n)
                    break
        impu = self.guest_range.replace("*", n)
        user = impu.split(":", 1)[1].split("@", 1)[0]
        domain = impu.split("@", 1)[1]
        return {"user": user, "impu": impu, "impi": "%s@%s" % (user, domain), "guest": True}

    def release_guest(self, ident):
        if ident.get("guest"):
            n = ident["impu"].split("@", 1)[0].rsplit("-", 1)[-1]
            with self._lock:
                self._guests.discard(n)


if __name__ == "__main__":
    if sys.argv[1:] != ["--hash"]:
        sys.exit("usage: wwsf_accounts.py --hash   (reads a password, prints its scrypt hash)")
    pw = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    print(hash_password(pw))
