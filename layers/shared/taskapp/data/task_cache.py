"""Read-through cache of single tasks in Redis, keyed by owner, that never serves an older version than one sent.

Two keys per task, in one hash slot (`{owner:task}`), so both scripts stay valid on a Redis cluster:
- `taskcache:{owner:task}` holds `<version>|<json>` for a short TTL (TASK_CACHE_TTL_SECONDS): the cached view.
- `taskcache:{owner:task}:floor` holds the lowest version a reader may be served, for FLOOR_TTL_SECONDS.

A writer raises the floor to the version it is about to store *before* its DynamoDB write and writes the new view
through after it; a delete raises the floor to TOMBSTONE. A reader is served an entry only if its version is at
least the floor, and a reader that filled from DynamoDB may store its copy only if no newer floor or entry exists.
So once any client was sent version N (by the write that made it, or by a consistent read after that write), the
floor is already at least N and no older entry can be served or stored. FLOOR_TTL_SECONDS outlives any request
(Lambda's timeout is seconds), so no reader still holding an old copy can outlive the floor that refuses it.

The key starts with the owner id: the cache is only ever asked for the caller's own tasks, after the revocation
check, exactly like the table's partition key. Every call goes through the Redis breaker. A read, an offer or a
write-through that fails is logged and counted and reads as a miss; a floor that cannot be raised raises
CacheUnavailable, because the write it announces must not happen without it.
"""

from __future__ import annotations

from taskapp.observability import logger, metrics
from taskapp.redis_client import RedisUnavailable, guarded
from taskapp.settings import task_cache_settings

FLOOR_TTL_SECONDS = 3600
TOMBSTONE = 2**53  # a floor no stored version reaches: the task is gone, nothing cached for it may be served

# KEYS = entry, floor; ARGV = version, payload, entry ttl ms. A reader's copy: stored only if nothing newer is known.
_OFFER = """
local version = tonumber(ARGV[1])
local floor = tonumber(redis.call('GET', KEYS[2]) or '0')
if version < floor then return 0 end
local current = redis.call('GET', KEYS[1])
if current then
  local current_version = tonumber(string.match(current, '^(%d+)|'))
  if current_version and current_version > version then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'PX', ARGV[3])
return 1
"""

# KEYS = entry, floor; ARGV = version, payload ('' = only raise the floor), entry ttl ms, floor ttl s.
_ADVANCE = """
local version = tonumber(ARGV[1])
local floor = tonumber(redis.call('GET', KEYS[2]) or '0')
if version > floor then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[4])
  floor = version
else
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
if ARGV[2] == '' then
  local current = redis.call('GET', KEYS[1])
  local current_version = current and tonumber(string.match(current, '^(%d+)|'))
  if current_version and current_version < floor then redis.call('DEL', KEYS[1]) end
  return 1
end
if version < floor then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'PX', ARGV[3])
return 1
"""


class CacheUnavailable(Exception):
    """Redis could not be told about a write (its floor not raised): the write must not proceed."""


def _unavailable(operation: str, exc: RedisUnavailable) -> None:
    logger.warning("task cache unavailable", extra={"operation": operation, "error": str(exc)})
    metrics.add_metric(name="TaskCacheUnavailable", unit="Count", value=1)


def enabled() -> bool:
    return task_cache_settings().task_cache_enabled


def _keys(owner_id: str, task_id: str) -> list[str]:
    entry = f"taskcache:{{{owner_id}:{task_id}}}"
    return [entry, f"{entry}:floor"]


def _entry_ttl_ms() -> int:
    return max(1, task_cache_settings().task_cache_ttl_seconds) * 1000


def read(owner_id: str, task_id: str) -> str | None:
    """The cached JSON of the task, or None (absent, expired, older than a version already written, Redis down)."""
    try:
        entry, floor = guarded(lambda r: r.mget(_keys(owner_id, task_id)))
    except RedisUnavailable as exc:
        _unavailable("read", exc)
        return None
    if not entry:
        return None
    version, _, payload = str(entry).partition("|")
    if not version.isdigit() or int(version) < int(floor or 0):
        return None
    return payload


def offer(owner_id: str, task_id: str, version: int, payload: str) -> bool:
    """Store what a reader got from DynamoDB, unless a newer version is known; True when stored."""
    keys = _keys(owner_id, task_id)
    try:
        stored = guarded(lambda r: r.register_script(_OFFER)(keys=keys, args=[version, payload, _entry_ttl_ms()]))
    except RedisUnavailable as exc:
        _unavailable("offer", exc)
        return False
    return bool(stored)


def _advance(owner_id: str, task_id: str, version: int, payload: str) -> None:
    keys = _keys(owner_id, task_id)
    args: list[str | int] = [version, payload, _entry_ttl_ms(), FLOOR_TTL_SECONDS]
    guarded(lambda r: r.register_script(_ADVANCE)(keys=keys, args=args))


def _raise_floor(owner_id: str, task_id: str, version: int) -> None:
    try:
        _advance(owner_id, task_id, version, "")
    except RedisUnavailable as exc:
        _unavailable("floor", exc)
        raise CacheUnavailable(str(exc)) from exc


def before_write(owner_id: str, task_id: str, next_version: int) -> None:
    """Called before a write stores `next_version`: from now on no older version is served (or CacheUnavailable)."""
    _raise_floor(owner_id, task_id, next_version)


def after_write(owner_id: str, task_id: str, version: int, payload: str) -> None:
    """Write the stored view through, so the next read is a hit with the version just sent (best effort)."""
    try:
        _advance(owner_id, task_id, version, payload)
    except RedisUnavailable as exc:
        _unavailable("write", exc)


def before_delete(owner_id: str, task_id: str) -> None:
    """Called before a delete: nothing cached for the task is served again (or CacheUnavailable)."""
    _raise_floor(owner_id, task_id, TOMBSTONE)
