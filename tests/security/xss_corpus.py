"""Classic XSS payloads, and how to tell whether a page let one through.

Every payload that runs sets `window.__xss` (or the page title to XSS), so a browser test
can ask whether any ran; the Django test asks whether the payload's markup reached the
HTML unescaped. `{{7*7}}` and friends check that text is never rendered as a template.
"""

import re

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '"><svg onload=window.__xss=1>',
    "'><script>window.__xss=1</script>",
    '" onmouseover="window.__xss=1" autofocus onfocus="window.__xss=1" x="',
    "' onfocus='window.__xss=1' autofocus='",
    "</textarea><script>window.__xss=1</script>",
    "</title><script>document.title='XSS'</script>",
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    '<a href="javascript:window.__xss=1">click</a>',
    "javascript:window.__xss=1",
    "<details open ontoggle=window.__xss=1>",
    "<body onload=window.__xss=1>",
    "<math><mtext></p><img src=x onerror=window.__xss=1></mtext></math>",
    "{{7*7}} {% now 'Y' %} ${7*7}",
    "&lt;script&gt;window.__xss=1&lt;/script&gt;",
]

# The characters that make markup; a payload without any is plain text wherever it lands.
MARKUP = set("<>\"'")
TEMPLATE = "{{7*7}}"

_SCRIPT_URL = re.compile(r"""(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I)


def is_markup(payload):
    return bool(MARKUP & set(payload))


_JSON_SCRIPT = re.compile(
    r"""<script[^>]*type=["']application/json["'][^>]*>(.*?)</script>""", re.S
)


def unescaped(html, payload):
    """What of `payload` reached `html` as markup, or '' when it is all escaped.

    Data in `<script type="application/json">` (json_script) is JSON, where quotes are
    harmless; only a `<` could end the element, so those blocks must hold none."""
    for block in _JSON_SCRIPT.findall(html):
        if "<" in block:
            return "markup in a JSON script block"
    html = _JSON_SCRIPT.sub("", html)
    if is_markup(payload) and payload in html:
        return "the payload itself"
    if "javascript:" in payload and _SCRIPT_URL.search(html):
        return "a javascript: URL"
    if payload.startswith("&lt;") and "<script>window.__xss" in html:
        return "an entity decoded into markup"
    return ""
