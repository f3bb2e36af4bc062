"""Finding, checking and downloading dataset files (torchvision.datasets.utils' names).

The policy: files that are present are used, even when their MD5 is not the published one (a
warning says so); `download=True` fetches only what is missing; when a download cannot happen (no
network, say) the RuntimeError names every file and the folder to put it in, and where to get it.
"""
import gzip
import hashlib
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import warnings
import zipfile

__all__ = ["calculate_md5", "check_md5", "check_integrity", "download_url", "extract_archive",
           "download_and_extract_archive", "verify_str_arg"]

_TIMEOUT = 30  # seconds per connection attempt
_md5_cache = {}
_warned = set()


def calculate_md5(fpath, chunk_size=1024 * 1024):
    st = os.stat(fpath)
    key = (os.path.abspath(fpath), st.st_size, st.st_mtime_ns)
    if key not in _md5_cache:
        md5 = hashlib.md5(usedforsecurity=False)
        with open(fpath, "rb") as f:
            while chunk := f.read(chunk_size):
                md5.update(chunk)
        _md5_cache[key] = md5.hexdigest()
    return _md5_cache[key]


def check_md5(fpath, md5):
    return md5 == calculate_md5(fpath)


def check_integrity(fpath, md5=None):
    if not os.path.isfile(fpath):
        return False
    return True if md5 is None else check_md5(fpath, md5)


def warn_if_modified(dataset, fpath, md5):
    """Warn (once per file) when a present file is not the published one; it is used all the same."""
    if md5 is None or not os.path.isfile(fpath) or check_md5(fpath, md5):
        return
    key = os.path.abspath(fpath)
    if key in _warned:
        return
    _warned.add(key)
    warnings.warn("%s: using %s although its MD5 %s is not the published %s (the file differs from the official "
                  "release)" % (dataset, key, calculate_md5(fpath), md5), UserWarning, stacklevel=4)


def download_url(url, root, filename=None, md5=None):
    """Download `url` to root/filename (atomically); urllib's URLError/OSError when it cannot."""
    root = os.path.expanduser(root)
    filename = filename or os.path.basename(url)
    fpath = os.path.join(root, filename)
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        return
    tmp = fpath + ".part"
    req = urllib.request.Request(url, headers={"User-Agent": "jtorch"})
    with urllib.request.urlopen(req, timeout=_TIMEOUT) as response, open(tmp, "wb") as f:
        shutil.copyfileobj(response, f)
    os.replace(tmp, fpath)
    if md5 is not None and not check_md5(fpath, md5):
        warnings.warn("%s was downloaded but its MD5 is not the published %s" % (fpath, md5), UserWarning)


def extract_archive(from_path, to_path=None, remove_finished=False):
    """Extract a .tar(.gz/.bz2/.xz), .tgz, .zip or a single .gz file; returns to_path."""
    to_path = to_path or os.path.dirname(from_path)
    if from_path.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
        with tarfile.open(from_path) as tar:
            tar.extractall(to_path, filter="data")
    elif from_path.endswith(".zip"):
        with zipfile.ZipFile(from_path) as z:
            z.extractall(to_path)
    elif from_path.endswith(".gz"):
        out = os.path.join(to_path, os.path.basename(from_path)[:-3])
        with gzip.open(from_path, "rb") as src, open(out + ".part", "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(out + ".part", out)
    else:
        raise RuntimeError("Extraction of %s not supported" % from_path)
    if remove_finished:
        os.remove(from_path)
    return to_path


def download_and_extract_archive(url, download_root, extract_root=None, filename=None, md5=None,
                                 remove_finished=False):
    download_root = os.path.expanduser(download_root)
    filename = filename or os.path.basename(url)
    download_url(url, download_root, filename, md5)
    extract_archive(os.path.join(download_root, filename), extract_root or download_root, remove_finished)


def verify_str_arg(value, arg=None, valid_values=None, custom_msg=None):
    if not isinstance(value, str):
        msg = "Expected type str" + (" for argument %s" % arg if arg else "") + ", but got type %s." % type(value)
        raise ValueError(msg)
    if valid_values is None or value in valid_values:
        return value
    if custom_msg is not None:
        raise ValueError(custom_msg)
    raise ValueError("Unknown value '%s' for argument %s. Valid values are {%s}."
                     % (value, arg, ", ".join(repr(v) for v in valid_values)))


def first_download(urls, root, filename):
    """Try each URL in turn; the last error when none works, else None."""
    error = None
    for url in urls:
        try:
            download_url(url, root, filename)
            return None
        except (urllib.error.URLError, OSError, ValueError) as e:
            error = "%s: %s" % (url, getattr(e, "reason", e))
    return error


def not_found(dataset, folder, files, where, error=None, note=""):
    """The RuntimeError for missing files: what to put where, and where it is published."""
    head = ("Dataset not found. You can use download=True to download it." if error is None else
            "Dataset not found, and downloading it failed (%s)." % error)
    lines = [head, "%s reads these files from %s%s:" % (dataset, os.path.abspath(folder), note)]
    lines += ["    %s" % f for f in files]
    lines.append("Put them there (published at %s) and run again." % where)
    return RuntimeError("\n".join(lines))
