import pytest

from aggregator.text.urls import (
    TRACKING_PARAMS,
    canonical_url,
    is_site_root,
    looks_like_web_address,
    without_feed_scheme,
)

INFORM_NEWS = "https://inform.kz/ru/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D1%8C"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.inform.kz/ru/новость?utm_source=x",
        "http://inform.kz/ru/новость",
        "HTTPS://WWW.INFORM.KZ/ru/новость/",
        "https://inform.kz:443/ru/новость#comments",
        "http://www.inform.kz:80/ru/%d0%bd%d0%be%d0%b2%d0%be%d1%81%d1%82%d1%8c",
        "  https://inform.kz/ru/новость?utm_medium=rss&utm_campaign=feed  ",
    ],
)
def test_spellings_of_one_cyrillic_article_share_a_canonical_form(url):
    assert canonical_url(url) == INFORM_NEWS


def test_cyrillic_domain_becomes_punycode():
    assert canonical_url("https://информ.кз/жаңалық") == canonical_url(
        "https://xn--h1aicekw.xn--g1af/%D0%B6%D0%B0%D2%A3%D0%B0%D0%BB%D1%8B%D2%9B"
    )
    assert canonical_url("http://WWW.Информ.КЗ/").startswith("https://xn--h1aicekw.xn--g1af/")


def test_kazakh_letters_in_path_are_percent_encoded_as_utf8():
    assert canonical_url("https://kaz.inform.kz/ә-ғ-қ-ң-ө-ұ-ү-һ-і") == (
        "https://kaz.inform.kz/%D3%99-%D2%93-%D2%9B-%D2%A3-%D3%A9-%D2%B1-%D2%AF-%D2%BB-%D1%96"
    )


def test_tracking_parameters_are_dropped_and_the_rest_sorted():
    url = "https://tengrinews.kz/news/1?b=2&fbclid=x&a=1&from=rss&UTM_Source=y&gclid=z&si=q"
    assert canonical_url(url) == "https://tengrinews.kz/news/1?a=1&b=2"


@pytest.mark.parametrize("param", TRACKING_PARAMS)
def test_every_listed_tracking_parameter_is_dropped(param):
    assert canonical_url(f"https://a.kz/x?{param}=1&id=5") == "https://a.kz/x?id=5"


TOKEN = "0123456789abcdef0123456789ABCDEF"  # 32 letters and digits, as PHP makes them


@pytest.mark.parametrize(
    "url",
    [
        f"https://a.kz/x?PHPSESSID={TOKEN}&id=5",
        "https://a.kz/x?phpsessid=short&id=5",
        f"https://a.kz/x;jsessionid={TOKEN}.node01?id=5",
        "https://a.kz/x;JSESSIONID=1A2B?id=5",
        f"https://a.kz/x?jsessionid={TOKEN}&id=5",
        f"https://a.kz/x?id=5&sid={TOKEN}",
        "https://a.kz/x?ASPSESSIONIDQQGGQGPC=KHNJDFKLJFLAJDKLJFALKDJF&id=5",
        "https://a.kz/x?CFID=1234&CFTOKEN=87654321&id=5",
    ],
)
def test_session_ids_are_no_part_of_an_article_s_address(url):
    assert canonical_url(url) == "https://a.kz/x?id=5"


def test_a_short_sid_is_an_article_s_own_number_and_other_path_parameters_stay():
    # PHP-Nuke's story id: ?sid=1234 names the article.
    assert canonical_url("https://a.kz/modules.php?name=News&sid=1234") == (
        "https://a.kz/modules.php?name=News&sid=1234"
    )
    assert canonical_url("https://a.kz/x?sid=1") != canonical_url("https://a.kz/x?sid=2")
    assert canonical_url("https://a.kz/x;version=2") == "https://a.kz/x;version=2"


def test_meaningful_query_parameters_are_kept():
    assert canonical_url("https://a.kz/index.php?id=42&lang=ru") == (
        "https://a.kz/index.php?id=42&lang=ru"
    )
    assert canonical_url("https://a.kz/x?id=1") != canonical_url("https://a.kz/x?id=2")


def test_empty_query_and_fragment_are_dropped():
    assert canonical_url("https://a.kz/x?#top") == "https://a.kz/x"
    assert canonical_url("https://a.kz/x?utm_source=x") == "https://a.kz/x"


def test_root_keeps_its_slash_and_other_paths_lose_the_trailing_one():
    assert canonical_url("http://a.kz") == "https://a.kz/"
    assert canonical_url("https://a.kz/") == "https://a.kz/"
    assert canonical_url("https://a.kz/news/") == "https://a.kz/news"


def test_duplicate_slashes_and_dot_segments_are_resolved():
    assert canonical_url("https://a.kz//news///2024/./05/../06/") == "https://a.kz/news/2024/06"
    assert canonical_url("https://a.kz/../x") == "https://a.kz/x"


def test_percent_escapes_of_unreserved_characters_are_decoded_others_upper_cased():
    assert canonical_url("https://a.kz/%7Euser/%61%2fb") == "https://a.kz/~user/a%2Fb"
    # a reserved character stays escaped: "%2F" and "/" mean different paths
    assert canonical_url("https://a.kz/a%2Fb") != canonical_url("https://a.kz/a/b")


def test_stray_percent_sign_is_escaped():
    assert canonical_url("https://a.kz/100%?q=50%") == "https://a.kz/100%25?q=50%25"


def test_non_default_port_is_kept():
    assert canonical_url("http://a.kz:8080/x") == "https://a.kz:8080/x"


def test_path_case_is_kept_host_case_is_not():
    assert canonical_url("https://A.KZ/News") == "https://a.kz/News"


def test_only_a_leading_www_label_is_stripped():
    assert canonical_url("https://www2.a.kz/") == "https://www2.a.kz/"
    assert canonical_url("https://news.www.a.kz/") == "https://news.www.a.kz/"


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        # plain links (the usual article link) and their near misses, which need the
        # full rules: each comes out as those rules say
        ("http://www.a.kz/ru/news/1-2", "https://a.kz/ru/news/1-2"),
        ("https://www.kz", "https://kz/"),
        ("https://www/x/", "https://www/x"),
        ("https://www.www.a.kz/x", "https://www.a.kz/x"),
        ("https://a.kz/x:y@z;w=1,(2)!$*+~_", "https://a.kz/x:y@z;w=1,(2)!$*+~_"),
        ("https://a.kz/x/./y/../z", "https://a.kz/x/z"),
        ("https://a.kz/.well-known/x", "https://a.kz/.well-known/x"),
        ("https://a.kz//x//y/", "https://a.kz/x/y"),
        ("https://a.kz./x", "https://a.kz/x"),
        ("https://a.kz:8080/x", "https://a.kz:8080/x"),
        ("https://user@a.kz/x", "https://user@a.kz/x"),
        ("https://a.kz/x%7e", "https://a.kz/x~"),
        ("https://a.kz/x y", "https://a.kz/x%20y"),
        ("HTTP://a.kz/x", "https://a.kz/x"),
    ],
)
def test_plain_links_and_their_near_misses(url, canonical):
    assert canonical_url(url) == canonical


def test_ipv6_host_keeps_its_brackets():
    assert canonical_url("http://[2001:DB8::1]:443/x") == "https://[2001:db8::1]/x"


@pytest.mark.parametrize(
    "url", ["file:///srv/feed.xml", "mailto:news@a.kz", "feed.xml", "http://[::1", "https:///x"]
)
def test_what_is_not_an_http_url_comes_back_unchanged(url):
    assert canonical_url(f" {url} ") == url


def test_canonical_form_is_a_fixed_point():
    url = "https://www.inform.kz/ru/новость/?b=1&a=%d0%b0&utm_source=x#x"
    assert canonical_url(canonical_url(url)) == canonical_url(url)


def test_a_link_we_publish_to_a_sites_root_ends_in_a_slash_as_readers_show_it():
    from aggregator.text.urls import http_uri

    assert http_uri("https://localhost:8000") == "https://localhost:8000/"
    assert http_uri("https://site.kz?id=1") == "https://site.kz/?id=1"
    assert http_uri("https://site.kz/news") == "https://site.kz/news"
    assert http_uri("javascript:alert(1)") is None


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("https://a.kz", True),
        ("https://a.kz/", True),
        ("https://a.kz/?page=2", True),
        ("https://a.kz#top", True),
        ("https://user@a.kz:8080/", True),
        ("https://a.kz/ru", False),
        ("https://a.kz//", False),
        ("https://a.kz/?x#/y", True),
        ("http://a.kz/x", False),
        ("HTTPS://a.kz/", True),
        ("https://[::1]/", True),
        ("https://a.kz\t/x", False),
        ("mailto:news@a.kz", False),
    ],
)
def test_a_link_to_a_sites_root_is_told_by_its_path_as_urlsplit_reads_it(url, root):
    assert is_site_root(url) is root


def test_a_feed_scheme_link_is_the_address_after_it():
    assert without_feed_scheme("feed://kapital.kz/rss") == "http://kapital.kz/rss"
    assert without_feed_scheme("FEED://kapital.kz/rss") == "http://kapital.kz/rss"
    assert without_feed_scheme("feed:https://kapital.kz/rss") == "https://kapital.kz/rss"
    for url in ("https://kapital.kz/rss", "feeds/news.xml", "feed:kapital", "feedback://x"):
        assert without_feed_scheme(url) == url


@pytest.mark.parametrize(
    "value, web",
    [
        ("kapital.kz/rss", True),
        ("kapital.kz", True),
        ("inform.kz:8080/rss", True),
        ("www.zakon.kz", True),
        ("news.xml", False),  # a file's name
        ("feeds/news.xml", False),
        ("https://kapital.kz/rss", False),  # has its scheme
        ("127.0.0.1/rss", False),
    ],
)
def test_a_web_address_without_its_scheme_is_told_from_a_path(value, web):
    assert looks_like_web_address(value) is web
