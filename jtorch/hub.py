"""torch.hub, the checkpoint side: where downloaded weights live and how they are fetched and loaded.

The cache is torch's: `<hub dir>/checkpoints/<file name of the URL>`, the hub dir being `$TORCH_HOME/hub`
(TORCH_HOME defaults to `$XDG_CACHE_HOME/torch`, else `~/.cache/torch`), so weights that PyTorch
already downloaded are found, and a file copied there by hand is used.

Differs from torch:
- when the file is absent and cannot be downloaded (no network), the RuntimeError names the URL and
  the exact path to put the file at (torch raises urllib's URLError);
- a file already present is checked against the hash prefix in its name when check_hash=True (torch
  checks only what it downloads): a mismatch warns once and the file is used all the same, the rule
  jtorch.vision.datasets follows for files already on disk;
- the progress report is one line per download on stderr, not a tqdm bar.
The repository side of torch.hub (hub.load, hub.list, hub.help) is not implemented.
"""
import hashlib
import os
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings

__all__ = ["get_dir", "set_dir", "load_state_dict_from_url", "download_url_to_file"]

_hub_dir = None
_HASH_IN_NAME = re.compile(r"-([a-f0-9]*)\.")   # resnet18-f37072fd.pth -> f37072fd
_TIMEOUT = 30                                    # seconds per connection attempt
_CHUNK = 1 << 20
_sha256_cache = {}
_warned = set()


def _torch_home():
    default = os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), "torch")
    return os.path.expanduser(os.getenv("TORCH_HOME", default))


def get_dir():
    """The hub cache folder: the one set_dir chose, else $TORCH_HOME/hub."""
    if os.getenv("TORCH_HUB"):
        warnings.warn("TORCH_HUB is deprecated, please use env TORCH_HOME instead")
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_torch_home(), "hub")


def set_dir(d):
    """Use folder `d` as the hub cache from now on (checkpoints go to d/checkpoints)."""
    global _hub_dir
    _hub_dir = os.path.expanduser(d)


def _sha256(path):
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
    if key not in _sha256_cache:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        _sha256_cache[key] = digest.hexdigest()
    return _sha256_cache[key]


def _hash_prefix(filename):
    match = _HASH_IN_NAME.search(filename)
    return match.group(1) if match else None


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    """Download `url` to the file `dst`. The data goes to a temporary file next to dst that replaces dst
    only once complete (and, with hash_prefix, only when its sha256 starts with it), so an interrupted
    or corrupt download leaves nothing at dst. RuntimeError on a hash mismatch; urllib's URLError or
    OSError when the download itself fails."""
    dst = os.path.abspath(os.path.expanduser(dst))
    folder = os.path.dirname(dst)
    os.makedirs(folder, exist_ok=True)
    request = urllib.request.Request(url, headers={"User-Agent": "jtorch"})
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(dst) + ".", suffix=".partial", dir=folder)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            total = response.headers.get("Content-Length")
            done = 0
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
        if hash_prefix is not None and not digest.hexdigest().startswith(hash_prefix):
            raise RuntimeError('invalid hash value (expected "%s", got "%s")' % (hash_prefix, digest.hexdigest()))
        os.replace(tmp, dst)
        if progress:
            size = "%d bytes" % done if total is None else "%d of %s bytes" % (done, total)
            sys.stderr.write("Downloaded %s to %s (%s)\n" % (url, dst, size))
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _check_present(path, hash_prefix):
    """A file already in the cache is used as it is; one whose sha256 does not start with the prefix
    in its name is not the published file, which a warning (once per file) says."""
    if hash_prefix is None or _sha256(path).startswith(hash_prefix):
        return
    key = os.path.abspath(path)
    if key not in _warned:
        _warned.add(key)
        warnings.warn("using %s although its sha256 %s does not start with %s, the hash in its name (the file "
                      "differs from the published checkpoint)" % (key, _sha256(path), hash_prefix), UserWarning,
                      stacklevel=3)


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True, check_hash=False,
                             file_name=None, weights_only=False):
    """Load the object saved at `url` (a state_dict, usually) through the cache at
    `<model_dir or get_dir()/checkpoints>/<file name>`: a file already there is loaded, otherwise it
    is downloaded first. With check_hash, the sha256 prefix in the file name (`name-<hex>.ext`) is
    checked: a download that fails it raises RuntimeError; a file already present that fails it warns
    and is used. RuntimeError naming the URL and the path to put the file at when it is absent and
    cannot be downloaded."""
    from .serialization import load
    if os.getenv("TORCH_MODEL_ZOO"):
        warnings.warn("TORCH_MODEL_ZOO is deprecated, please use env TORCH_HOME instead")
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    filename = file_name if file_name is not None else os.path.basename(urllib.parse.urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    hash_prefix = _hash_prefix(filename) if check_hash else None
    if os.path.exists(cached_file):
        _check_present(cached_file, hash_prefix)
    else:
        os.makedirs(model_dir, exist_ok=True)
        if progress:
            sys.stderr.write('Downloading: "%s" to %s\n' % (url, cached_file))
        try:
            download_url_to_file(url, cached_file, hash_prefix, progress=progress)
        except (urllib.error.URLError, OSError) as e:  # URLError is an OSError; both mean "could not fetch"
            reason = getattr(e, "reason", None) or e
            raise RuntimeError("could not download %s (%s). Without network access, download the file "
                               "elsewhere and put it at %s" % (url, reason, os.path.abspath(cached_file))) from e
    return load(cached_file, map_location=map_location, weights_only=weights_only)
