# An API that accepts Gatehouse access tokens (FastAPI + PyJWT): GET /me answers who is calling,
# provisioning the API's own user on first sight. Run it:
#
#   GATEHOUSE_ISSUER=http://localhost:3000 API_AUDIENCE=https://api.example.com \
#     python3 -m uvicorn app:app --port 4000
import os
import sqlite3
import threading
import uuid

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

ISSUER = os.environ["GATEHOUSE_ISSUER"]
AUDIENCE = os.environ["API_AUDIENCE"]

# Keys are fetched once and cached; a token signed by a new key (a rotation) fetches them again.
jwks = jwt.PyJWKClient(f"{ISSUER}/jwks")

# The API's own users; a real API keeps them in its database, with a unique index on sub.
db = sqlite3.connect(":memory:", check_same_thread=False)
db.execute("create table users (id text primary key, sub text not null unique, email text, name text)")
db_lock = threading.Lock()

app = FastAPI()
bearer = HTTPBearer(auto_error=False)


def unauthorized() -> HTTPException:
    return HTTPException(401, "invalid_token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def verify(token: str) -> dict:
    try:
        # an access token (RFC 9068), never an ID token
        if jwt.get_unverified_header(token).get("typ") != "at+jwt":
            raise unauthorized()
        key = jwks.get_signing_key_from_jwt(token).key
        return jwt.decode(
            token,
            key,
            algorithms=["RS256"],  # pinned: never what the token's header asks for
            issuer=ISSUER,  # who signed it
            audience=AUDIENCE,  # for this API, not another one
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},  # exp checked, no leeway
        )
    except jwt.PyJWTError as e:
        raise unauthorized() from e


def local_user_for(claims: dict) -> tuple[dict, bool]:
    """The local user for a token, created on first sight. Found by `sub`, never by email: an email
    can change, or pass to someone else; `sub` is the user's for good. The email and name are kept
    as the last token said, for display only."""
    sub, email, name = claims["sub"], claims.get("email"), claims.get("name")
    with db_lock, db:
        row = db.execute("select id, email, name from users where sub = ?", (sub,)).fetchone()
        created = row is None
        if created:
            row = (str(uuid.uuid4()), email, name)
            db.execute("insert into users (id, sub, email, name) values (?, ?, ?, ?)", (row[0], sub, email, name))
        elif (email or row[1], name or row[2]) != (row[1], row[2]):
            row = (row[0], email or row[1], name or row[2])
            db.execute("update users set email = ?, name = ? where id = ?", (row[1], row[2], row[0]))
    return {"id": row[0], "sub": sub, "email": row[1], "name": row[2]}, created


def current_claims(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> dict:
    if credentials is None:
        raise unauthorized()
    return verify(credentials.credentials)


@app.get("/me")
def me(claims: dict = Depends(current_claims)) -> dict:
    user, created = local_user_for(claims)
    return {
        "user": user,
        "created": created,
        "email": claims.get("email"),
        "name": claims.get("name"),
        "roles": claims.get("roles", []),
        "workspace": claims.get("workspace_slug"),
    }
