"""Build the bundled sample WARC that the demo run (`make run`) processes.

Usage: python samples/make_sample.py [--out samples/sample.warc.gz]

Every page text in samples/pages/ was written for this project. The script wraps each
one in a site template full of boilerplate and writes a Common-Crawl-like gzipped WARC
that also carries the awkward cases a curation pipeline must survive: legacy and wrong
charsets, near and exact duplicates, URLs that need normalising, non-HTML payloads,
a redirect, a 404 and one corrupt gzip member. A few low-quality pages are each built to trip
one heuristic of the filter stage, and one clean page carries PII to be redacted. It writes
expected.json next to the WARC so tests can check the pipeline against what was put in.

The output is byte-identical from run to run (fixed dates, uuid5 record IDs, gzip mtime 0)
as long as the same zlib build does the compressing.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import struct
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html import escape
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

HERE = Path(__file__).resolve().parent
PAGES_DIR = HERE / "pages"
DEFAULT_OUT = HERE / "sample.warc.gz"

CRAWL_START = datetime(2024, 1, 3, 6, 0, 0, tzinfo=timezone.utc)
CRAWL_SPAN = timedelta(days=360)
USER_AGENT = "CurateSampleBot/1.0 (+https://curate.invalid/bot)"


# --------------------------------------------------------------------------- page texts

@dataclass(frozen=True)
class Page:
    slug: str
    lang: str
    title: str
    paragraphs: tuple[str, ...]


def load_pages() -> dict[str, Page]:
    pages = {}
    for path in sorted(PAGES_DIR.glob("*.txt")):
        title, _, body = path.read_text(encoding="utf-8").partition("\n\n")
        paragraphs = tuple(p.strip() for p in body.split("\n\n") if p.strip())
        lang = path.stem.split("__", 1)[0]
        pages[path.stem] = Page(path.stem, lang, title.strip(), paragraphs)
    return pages


def apply_edits(page: Page, edits: tuple[tuple[str, str], ...]) -> Page:
    """Near-duplicate variants differ from their source by a reworded sentence or two."""
    paragraphs = list(page.paragraphs)
    for old, new in edits:
        hits = [i for i, p in enumerate(paragraphs) if old in p]
        assert len(hits) == 1 and paragraphs[hits[0]].count(old) == 1, f"edit must match once: {old!r}"
        paragraphs[hits[0]] = paragraphs[hits[0]].replace(old, new)
    return Page(page.slug, page.lang, page.title, tuple(paragraphs))


# --------------------------------------------------------------------------- where pages are served

@dataclass(frozen=True)
class Capture:
    """One HTML 200 page as it was served at one URL."""

    slug: str
    url: str
    site: str
    template: str
    charset: str = "utf-8"
    # How the charset is declared: "both" (HTTP header and <meta>), "http-equiv" (HTTP header
    # and an old-style <meta http-equiv>), "none" (nowhere) or "wrong-http" (the HTTP header
    # claims iso-8859-1 while the bytes are UTF-8, and there is no <meta>).
    declared: str = "both"
    edits: tuple[tuple[str, str], ...] = ()
    near_duplicate_group: str | None = None
    # URL of the capture whose payload this one repeats byte for byte.
    exact_duplicate_of: str | None = None
    # What the filter stage (conf/default.yaml) decides: "keep", or "drop" for a page built to
    # trip one heuristic; `pii` lists the kinds of PII it must redact (pii_v1 names).
    filter_expectation: str = "keep"
    pii: tuple[str, ...] = ()


RATATOUILLE_URL = "https://www.cuisine-de-mamie.fr/recettes/ratatouille-provencale"

CAPTURES = (
    # en
    Capture("en__sourdough-starter", "https://www.crumbandcrust.co.uk/recipes/sourdough-starter/",
            "Crumb & Crust", "blog", near_duplicate_group="nd-en-sourdough"),
    Capture("en__sourdough-starter",
            "https://recipes.homecookhub.com.au/bread/how-to-make-sourdough-starter"
            "?utm_source=facebook&utm_medium=social&utm_campaign=bread_week",
            "HomeCook Hub", "news", near_duplicate_group="nd-en-sourdough", edits=((
                "Whole grain flours carry more of the microbes and nutrients that get fermentation going, "
                "so they tend to wake up faster than white flour.",
                "Wholegrain flour is richer in the wild microbes and nutrients that kick-start fermentation, "
                "which is why it usually gets going sooner than plain white flour."),)),
    Capture("en__lisbon-three-days", "http://WWW.Wander-Slowly.COM:80/europe/portugal/lisbon-three-days",
            "Wander Slowly", "blog"),
    Capture("en__how-heat-pumps-work",
            "https://explainers.sciencebrief.org/energy/how-heat-pumps-work#how-it-works",
            "Science Brief", "news"),
    Capture("en__trail-running-shoe-review",
            "https://shop.ridgeline-outdoor.com:443/products/trail-4"
            "?utm_source=newsletter&utm_campaign=spring_sale&color=blue",
            "Ridgeline Outdoor", "shop"),
    Capture("en__forum-raspberry-pi-overheating",
            "https://forum.tinkerbench.net/t/raspberry-pi-4-keeps-throttling/48213?page=1",
            "TinkerBench Forum", "forum"),
    Capture("en__tidal-locking-explained", "https://explainers.sciencebrief.org/space/tidal-locking",
            "Science Brief", "news"),
    Capture("en__community-garden-news",
            "https://www.riversidecourier.co.uk/news/local/community-garden-doubles-in-size",
            "The Riverside Courier", "news"),
    Capture("en__history-of-the-paperclip", "https://www.curiousobjects.blog/2024/03/history-of-the-paper-clip",
            "Curious Objects", "blog"),
    Capture("en__budget-home-office", "https://homeworkshop.net/blog/budget-home-office",
            "Home Workshop", "blog"),
    Capture("en__birdwatching-beginners", "https://www.gardenwildlife.org.uk/guides/birdwatching-for-beginners",
            "Garden Wildlife", "blog"),
    # fr
    Capture("fr__ratatouille-provencale", RATATOUILLE_URL, "La cuisine de Mamie", "blog",
            near_duplicate_group="dup-fr-ratatouille"),
    Capture("fr__ratatouille-provencale", "http://cuisine-de-mamie.fr/index.php?p=312", "La cuisine de Mamie",
            "blog", near_duplicate_group="dup-fr-ratatouille", exact_duplicate_of=RATATOUILLE_URL),
    Capture("fr__velo-canal-nantes-brest", "http://www.bretagne-a-velo.fr/carnets/canal-nantes-brest",
            "Bretagne à vélo", "blog", charset="windows-1252"),
    Capture("fr__pourquoi-les-marees", "https://www.lepetitcurieux.fr/sciences/pourquoi-deux-marees-par-jour",
            "Le Petit Curieux", "news"),
    Capture("fr__test-cafetiere-italienne", "https://boutique.maisoncafe.fr/cafetieres/moka-duo-6-tasses",
            "Maison Café", "shop"),
    Capture("fr__forum-potager-balcon", "https://forum.jardiner-en-ville.fr/viewtopic.php?t=8841&sid=3f9a2c1b",
            "Jardiner en ville", "forum"),
    # de
    Capture("de__apfelstrudel-rezept", "https://www.backstube-oma.at/rezepte/wiener-apfelstrudel",
            "Omas Backstube", "blog"),
    Capture("de__wandern-schwarzwald-westweg", "https://www.schwarzwald-höhenweg.de/touren/westweg-feldberg",
            "Schwarzwald-Höhenweg", "blog"),
    Capture("de__photovoltaik-balkonkraftwerk", "https://www.energieblick.de/ratgeber/balkonkraftwerk-lohnt-sich",
            "Energieblick", "news", near_duplicate_group="nd-de-balkonkraftwerk"),
    Capture("de__photovoltaik-balkonkraftwerk",
            "https://www.nordkurier-regional.de/verbraucher/balkonkraftwerk-solarstrom?utm_source=rss&utm_medium=feed",
            "Nordkurier Regional", "blog", near_duplicate_group="nd-de-balkonkraftwerk", edits=((
                "Bei einem Strompreis von 35 Cent entspricht das einer Ersparnis von etwa 200 Euro jährlich.",
                "Bei einem Strompreis von 40 Cent pro Kilowattstunde sparen Haushalte damit rund 250 Euro im Jahr."),)),
    Capture("de__wasserkocher-produkt", "https://www.kuechenwelt-shop.de/wasserkocher/aqua-clear-1-7l",
            "Küchenwelt", "shop"),
    Capture("de__forum-kinderfahrrad", "http://forum.elternrunde.de/thread/kinderfahrrad-rahmengroesse.5521/",
            "Elternrunde", "forum", declared="none"),
    # es
    Capture("es__gazpacho-andaluz", "https://www.lacocinadelsur.es/recetas/gazpacho-andaluz",
            "La cocina del sur", "blog"),
    Capture("es__viaje-oaxaca", "https://viajeros.mochilayruta.com.mx/mexico/oaxaca-una-semana",
            "Mochila y ruta", "blog", declared="wrong-http"),
    Capture("es__como-se-forma-un-volcan", "https://www.cienciaclara.es/geologia/como-se-forma-un-volcan",
            "Ciencia Clara", "news"),
    Capture("es__auriculares-inalambricos",
            "https://tienda.sonata-audio.es/auriculares/sonata-pro?utm_source=google&utm_medium=cpc&gclid=EAIaIQobChMI",
            "Sonata Audio", "shop"),
    Capture("es__foro-huerto-urbano", "https://foro.huertourbano.es/t/que-plantar-en-otono/1934",
            "Foro Huerto Urbano", "forum"),
    # ru
    Capture("ru__borsch-recept", "https://eda-doma.ru/recepty/borsch-s-govyadinoj", "Еда дома", "blog"),
    Capture("ru__baikal-zimoy", "https://travel.putevye-zametki.ru/baikal/zimoy-po-ldu", "Путевые заметки", "blog"),
    Capture("ru__kak-rabotaet-gps", "http://nauka-prosto.ru/statyi/kak-rabotaet-gps", "Наука просто", "news",
            charset="KOI8-R"),
    Capture("ru__obzor-elektrosamokata", "https://market.vektor-moto.ru/catalog/vektor-siti-2", "Вектор", "shop"),
    Capture("ru__istoriya-moskovskogo-metro", "http://www.istoriya-goroda.ru/moskva/metro-1935.html",
            "История города", "news", charset="windows-1251"),
    # zh
    Capture("zh__hongshaorou-zuofa", "https://www.jiachangcai.com.cn/caipu/hongshaorou.html", "家常菜谱网", "blog"),
    Capture("zh__hangzhou-xihu-youji", "http://lvyou.youjiwang.cn/hangzhou/xihu-yiriyou.html", "游记网", "blog",
            charset="GBK", declared="http-equiv"),
    Capture("zh__guanghe-zuoyong", "https://kepu.kexuetiandi.cn/shengwu/guanghezuoyong", "科学天地", "news",
            near_duplicate_group="nd-zh-guanghe"),
    Capture("zh__guanghe-zuoyong", "https://www.xuexi-ziyuan.cn/kexue/article_5521.html", "学习资源网", "blog",
            near_duplicate_group="nd-zh-guanghe", edits=((
                "所以我们看到的叶子大多是绿色的。", "这就是为什么大多数植物的叶子看起来都是绿色的。"),)),
    Capture("zh__dianfanbao-chanpin",
            "https://item.jiadian-mall.com/product/1008611.html?spm=a21bo.jianhomepage&utm_source=baidu",
            "家电商城", "shop"),
    Capture("zh__luntan-zixue-biancheng", "https://bbs.chengxuyuan-luntan.cn/thread-220413-1-1.html",
            "程序员论坛", "forum"),
    # ja
    Capture("ja__nikujaga-recipe", "https://www.okazu-note.jp/recipe/nikujaga", "おかずノート", "blog"),
    Capture("ja__kyoto-aki-sanpo", "https://tabi.kyoto-sanpo.co.jp/autumn/quiet-walk", "京都さんぽ", "blog",
            charset="Shift_JIS", declared="http-equiv"),
    Capture("ja__jishin-no-shikumi", "https://www.sonaeru-lab.jp/column/jishin-no-shikumi", "そなえるラボ", "news",
            near_duplicate_group="nd-ja-jishin"),
    Capture("ja__jishin-no-shikumi", "https://news.bousai-portal.or.jp/articles/20240911-earthquake#top",
            "防災ポータル", "blog", near_duplicate_group="nd-ja-jishin", edits=((
                "日本は世界でも有数の地震の多い国です。", "日本は、世界の中でも特に地震が多い国として知られています。"),)),
    Capture("ja__wireless-earphone", "https://store.airies-sound.co.jp/products/airies-anc?variant=white",
            "エアリーズ公式ストア", "shop"),
    Capture("ja__keijiban-kateisaien", "https://chiebukuro-garden.jp/qa/question_detail/q13298471",
            "家庭菜園Q&A", "forum"),
    # ar
    Capture("ar__falafel-wasfa", "https://www.matbakh-sahl.com/recipes/falafel", "مطبخ سهل", "blog"),
    Capture("ar__rihla-ila-albatra", "https://www.rahhal-blog.com/jordan/petra-two-days", "مدونة رحّال", "blog"),
    Capture("ar__kayfa-yahduth-alkusuf", "https://uloom.lil-jamee.net/astronomy/eclipse", "علوم للجميع", "news"),
    Capture("ar__muraja-hatif", "https://shop.souq-tech.ae/phones/nova-x5?utm_source=instagram&utm_medium=story",
            "سوق التقنية", "shop"),
    Capture("ar__nasaih-lilqiraa", "https://muntada.qurraa.org/topic/4417-kayfa-naud-lilqiraa/", "منتدى القراء",
            "forum"),
    # Low-quality pages, each built to be dropped by one heuristic. The filter chain first removes
    # lines (C4: no terminal punctuation or under 3 words; Llama 3: mostly repeated n-grams), so
    # what a page must trip has to sit in lines that survive that. Their slugs sort after the
    # first four of their language, so the related links of the other pages stay as they were.
    Capture("en__short-road-closure", "https://www.riversidecourier.co.uk/news/traffic/mill-lane-closed-saturday",
            "The Riverside Courier", "news", filter_expectation="drop"),            # Gopher: under 50 words
    Capture("en__seo-cheap-flights", "https://www.cheap-flights-deals-today.com/cheap-flights-london/",
            "Cheap Flights Deals Today", "blog", filter_expectation="drop"),         # Gopher: top 2-gram
    Capture("en__server-log-dump", "https://community.opstalk.dev/t/order-sync-job-fails-every-night/5512",
            "OpsTalk Community", "forum", filter_expectation="drop"),               # Llama 3 lines, then Gopher
    Capture("en__lorem-ipsum-plumbing", "https://www.hartleyandsons-plumbing.co.uk/services/",
            "Hartley & Sons Plumbing", "blog", filter_expectation="drop"),          # C4: lorem ipsum
    Capture("en__trending-links-list", "https://www.dailybuzzhub.com/trending/",
            "Daily Buzz Hub", "news", filter_expectation="drop"),                   # FineWeb: short lines
    Capture("en__js-snippets", "https://devnotes.codecraft.io/posts/array-and-object-tricks",
            "Dev Notes", "blog", filter_expectation="drop"),                        # C4: curly bracket
    Capture("de__wertstoff-abfuhrkalender", "https://www.lindenbach.de/buergerservice/abfuhrkalender-2024",
            "Gemeinde Lindenbach", "news", filter_expectation="drop"),              # Gopher: alphabetic words
    # Clean prose with an e-mail address, a phone number (a UK drama number, Ofcom's 020 7946 0xxx)
    # and a public IPv4 address: kept, redacted. Documentation ranges (203.0.113.0/24 and the
    # like) would not do: pii_v1 deliberately leaves them alone.
    Capture("en__office-new-connection", "https://www.brookandlyle.co.uk/news/new-office-internet-connection",
            "Brook & Lyle Accountants", "blog", pii=("email", "phone", "ip")),
)


# --------------------------------------------------------------------------- site chrome

# Boilerplate is written in each site's language, as on real sites, so that leaked chrome
# cannot be told apart from the article by language alone.
CHROME = {
    "en": dict(
        nav=["Home", "Latest", "Food & Drink", "Travel", "Science", "Shop", "Contact"],
        search="Search this site…",
        cookie="We use cookies and similar technologies to personalise content and ads, to provide social "
               "media features and to analyse our traffic. You can change your preferences at any time.",
        accept="Accept all", settings="Manage preferences",
        related="Related articles", share="Share this page", comments_title="Comments",
        comments=[("Helen_M", "Thanks for writing this up, it was exactly what I was looking for."),
                  ("daveh", "Bookmarked. Looking forward to the next one!")],
        reply="Reply",
        newsletter="Get our best stories in your inbox every Friday. No spam, unsubscribe at any time.",
        subscribe="Subscribe",
        legal=["Privacy policy", "Terms of use", "Cookie settings", "Advertise with us"],
        rights="All rights reserved.", author="Helen Carter", joined="Joined",
        price="£119.00", add_to_cart="Add to basket", in_stock="In stock, ships within 24 hours",
        back_to_top="Back to top"),
    "fr": dict(
        nav=["Accueil", "Actualités", "Cuisine", "Voyages", "Sciences", "Boutique", "Contact"],
        search="Rechercher sur le site…",
        cookie="Nous utilisons des cookies pour améliorer votre expérience, mesurer l'audience et vous proposer "
               "des publicités adaptées à vos centres d'intérêt. Vous pouvez modifier vos choix à tout moment.",
        accept="Tout accepter", settings="Paramétrer",
        related="À lire aussi", share="Partager cet article", comments_title="Commentaires",
        comments=[("Sophie L.", "Merci beaucoup pour cet article, très clair et très utile !"),
                  ("Marc_33", "Je garde la page en favori, vivement la suite.")],
        reply="Répondre",
        newsletter="Recevez chaque vendredi notre sélection d'articles dans votre boîte mail. "
                   "Désinscription en un clic.",
        subscribe="S'abonner",
        legal=["Politique de confidentialité", "Mentions légales", "Gestion des cookies", "Nous contacter"],
        rights="Tous droits réservés.", author="Claire Martin", joined="Inscrit depuis",
        price="39,90 €", add_to_cart="Ajouter au panier", in_stock="En stock, expédié sous 24 heures",
        back_to_top="Haut de page"),
    "de": dict(
        nav=["Startseite", "Aktuelles", "Rezepte", "Reisen", "Wissen", "Shop", "Kontakt"],
        search="Website durchsuchen…",
        cookie="Wir verwenden Cookies und ähnliche Technologien, um Inhalte zu personalisieren, Funktionen für "
               "soziale Medien anzubieten und die Zugriffe auf unsere Website zu analysieren. Sie können Ihre "
               "Einstellungen jederzeit ändern.",
        accept="Alle akzeptieren", settings="Einstellungen",
        related="Das könnte Sie auch interessieren", share="Artikel teilen", comments_title="Kommentare",
        comments=[("Sabine K.", "Vielen Dank für den ausführlichen Beitrag, das hat mir sehr geholfen!"),
                  ("tom_b", "Super erklärt, ich habe die Seite gleich gespeichert.")],
        reply="Antworten",
        newsletter="Jeden Freitag die besten Artikel bequem per E-Mail. Kein Spam, jederzeit abbestellbar.",
        subscribe="Abonnieren",
        legal=["Datenschutz", "Impressum", "Cookie-Einstellungen", "AGB"],
        rights="Alle Rechte vorbehalten.", author="Jana Vogel", joined="Dabei seit",
        price="64,99 €", add_to_cart="In den Warenkorb", in_stock="Auf Lager, Lieferung in 1–3 Werktagen",
        back_to_top="Nach oben"),
    "es": dict(
        nav=["Inicio", "Actualidad", "Recetas", "Viajes", "Ciencia", "Tienda", "Contacto"],
        search="Buscar en el sitio…",
        cookie="Utilizamos cookies propias y de terceros para mejorar nuestros servicios, analizar la navegación "
               "y mostrarte publicidad relacionada con tus preferencias. Puedes cambiar la configuración en "
               "cualquier momento.",
        accept="Aceptar todas", settings="Configurar",
        related="Artículos relacionados", share="Compartir", comments_title="Comentarios",
        comments=[("Lucía G.", "¡Muchas gracias por compartirlo! Me ha resultado muy útil."),
                  ("javi_mtz", "Me lo guardo en favoritos, buenísimo.")],
        reply="Responder",
        newsletter="Recibe cada viernes nuestros mejores artículos en tu correo. Sin spam, puedes darte de baja "
                   "cuando quieras.",
        subscribe="Suscribirme",
        legal=["Política de privacidad", "Aviso legal", "Política de cookies", "Contacto"],
        rights="Todos los derechos reservados.", author="Marta Ruiz", joined="Miembro desde",
        price="179,00 €", add_to_cart="Añadir al carrito", in_stock="En stock, envío en 24 horas",
        back_to_top="Volver arriba"),
    "ru": dict(
        nav=["Главная", "Новости", "Рецепты", "Путешествия", "Наука", "Магазин", "Контакты"],
        search="Поиск по сайту…",
        cookie="Мы используем файлы cookie, чтобы сделать сайт удобнее, анализировать посещаемость и показывать "
               "рекламу с учётом ваших интересов. Продолжая пользоваться сайтом, вы соглашаетесь с этим.",
        accept="Принять", settings="Настроить",
        related="Читайте также", share="Поделиться", comments_title="Комментарии",
        comments=[("Ольга_М", "Спасибо за статью, очень полезно и понятно написано!"),
                  ("serg1985", "Добавил в закладки, жду продолжения.")],
        reply="Ответить",
        newsletter="Подпишитесь на рассылку и получайте лучшие материалы недели по пятницам. Без спама, "
                   "отписаться можно в любой момент.",
        subscribe="Подписаться",
        legal=["Политика конфиденциальности", "Пользовательское соглашение", "Настройки cookie",
               "Реклама на сайте"],
        rights="Все права защищены.", author="Анна Соколова", joined="На сайте с",
        price="24 990 ₽", add_to_cart="В корзину", in_stock="В наличии, доставка от одного дня",
        back_to_top="Наверх"),
    "zh": dict(
        nav=["首页", "资讯", "美食", "旅游", "科普", "商城", "联系我们"],
        search="站内搜索…",
        cookie="本网站使用Cookie来改善您的浏览体验、分析网站流量并为您推荐个性化内容。继续浏览即表示您同意我们使用Cookie。",
        accept="接受全部", settings="设置",
        related="相关文章", share="分享到", comments_title="网友评论",
        comments=[("小雨点", "谢谢分享，写得很详细，收藏了！"), ("老王爱生活", "学到了，下次试试看。")],
        reply="回复",
        newsletter="订阅我们的每周精选，每个周五把最好的文章发送到您的邮箱，可随时退订。",
        subscribe="订阅",
        legal=["隐私政策", "用户协议", "Cookie设置", "广告合作"],
        rights="版权所有。", author="林晓", joined="注册时间",
        price="¥299.00", add_to_cart="加入购物车", in_stock="现货，24小时内发货",
        back_to_top="返回顶部"),
    "ja": dict(
        nav=["ホーム", "ニュース", "レシピ", "旅行", "サイエンス", "ショップ", "お問い合わせ"],
        search="サイト内を検索…",
        cookie="当サイトでは、利便性の向上やアクセス解析、広告配信のためにクッキーを使用しています。"
               "サイトを引き続き利用することで、クッキーの使用に同意したものとみなされます。",
        accept="同意する", settings="設定を変更",
        related="関連記事", share="この記事をシェアする", comments_title="コメント",
        comments=[("さくら", "とても参考になりました。ありがとうございます！"),
                  ("たけし", "ブックマークしました。次の記事も楽しみにしています。")],
        reply="返信する",
        newsletter="毎週金曜日に人気記事をメールでお届けします。配信はいつでも停止できます。",
        subscribe="登録する",
        legal=["プライバシーポリシー", "利用規約", "クッキー設定", "運営会社"],
        rights="無断転載を禁じます。", author="山本 花子", joined="登録日",
        price="12,800円（税込）", add_to_cart="カートに入れる", in_stock="在庫あり、翌日発送",
        back_to_top="ページの先頭へ"),
    "ar": dict(
        nav=["الرئيسية", "الأخبار", "وصفات", "سفر", "علوم", "المتجر", "اتصل بنا"],
        search="ابحث في الموقع…",
        cookie="نستخدم ملفات تعريف الارتباط لتحسين تجربتك على موقعنا وتحليل حركة الزوار وعرض إعلانات تناسب "
               "اهتماماتك. يمكنك تغيير إعداداتك في أي وقت.",
        accept="قبول الكل", settings="الإعدادات",
        related="مقالات ذات صلة", share="شارك المقال", comments_title="التعليقات",
        comments=[("أم يوسف", "شكرا جزيلا على هذا المقال المفيد والواضح."),
                  ("خالد", "حفظت الصفحة في المفضلة، بانتظار المزيد.")],
        reply="رد",
        newsletter="اشترك في نشرتنا البريدية لتصلك أفضل المقالات كل يوم جمعة. يمكنك إلغاء الاشتراك في أي وقت.",
        subscribe="اشترك",
        legal=["سياسة الخصوصية", "شروط الاستخدام", "إعدادات ملفات تعريف الارتباط", "أعلن معنا"],
        rights="جميع الحقوق محفوظة.", author="سارة الأحمد", joined="عضو منذ",
        price="٨٩٩ درهم", add_to_cart="أضف إلى السلة", in_stock="متوفر، الشحن خلال ٢٤ ساعة",
        back_to_top="العودة إلى الأعلى"),
}

STYLE = """
:root{--accent:#c0392b;--muted:#6b6b6b;--max:1180px}
*{box-sizing:border-box}body{margin:0;font:16px/1.6 Georgia,serif;color:#222;background:#fafafa}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
.site-header{display:flex;align-items:center;justify-content:space-between;padding:12px 24px;background:#fff;
border-bottom:1px solid #e5e5e5;position:sticky;top:0;z-index:20}
.main-nav ul{list-style:none;display:flex;gap:18px;margin:0;padding:0}
.cookie-banner{position:fixed;bottom:0;left:0;right:0;padding:16px 24px;background:#1f2933;color:#fff;z-index:99}
.cookie-banner button{margin-left:12px;padding:6px 14px;border:0;border-radius:3px;cursor:pointer}
.container,.site-content,#forum-wrapper,.product-page{max-width:var(--max);margin:0 auto;padding:24px}
.sidebar,.widget-area{font-size:14px;color:var(--muted)}
.share-buttons a{display:inline-block;margin-right:8px;padding:4px 10px;border:1px solid #ddd;border-radius:14px}
.comment-list{list-style:none;padding:0}.comment{border-top:1px solid #eee;padding:12px 0}
.site-footer{margin-top:48px;padding:32px 24px;background:#222;color:#bbb;font-size:13px}
.site-footer ul{list-style:none;display:flex;flex-wrap:wrap;gap:16px;padding:0}
@media (max-width:720px){.main-nav{display:none}.sidebar,.widget-area{display:none}}
"""

ANALYTICS_JS = """
window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}
gtag('js',new Date());gtag('config','G-7Q2XK4P1ZR',{anonymize_ip:true});
(function(){var s=document.createElement('script');s.async=true;
s.src='https://cdn.adnetwork.invalid/tag.js?pub=4471';document.head.appendChild(s);})();
"""

CONSENT_JS = """
document.querySelectorAll('#cookie-consent button').forEach(function(b){
  b.addEventListener('click',function(){document.cookie='consent='+(b.dataset.choice||'all')+';path=/;max-age=31536000';
  document.getElementById('cookie-consent').remove();});});
"""


def slug_date(slug: str) -> str:
    """A stable 2023 publication date, so bylines look real without depending on crawl order."""
    days = int(hashlib.sha1(slug.encode()).hexdigest(), 16) % 365
    return (datetime(2023, 1, 1) + timedelta(days=days)).strftime("%Y-%m-%d")


def block_html(text: str) -> str:
    """One paragraph of a page file: preformatted text (fenced by ```, no blank line inside), a
    list (every line starts with "- ") or, as for every clean page, a <p>."""
    rows = text.split("\n")
    if text.startswith("```") and text.endswith("```"):
        code = text[3:-3].strip("\n")
        return f"<pre><code>{escape(code)}</code></pre>"
    if all(row.startswith("- ") for row in rows):
        return "<ul>" + "".join(f"<li>{escape(row[2:])}</li>" for row in rows) + "</ul>"
    return f"<p>{escape(text)}</p>"


def paragraphs_html(page: Page) -> str:
    return "\n".join(block_html(p) for p in page.paragraphs)


def cookie_banner(chrome: dict) -> str:
    return (f'<div id="cookie-consent" class="cookie-banner" role="dialog" aria-live="polite">'
            f'<p>{escape(chrome["cookie"])}</p>'
            f'<button data-choice="all">{escape(chrome["accept"])}</button>'
            f'<button data-choice="custom">{escape(chrome["settings"])}</button></div>')


def site_header(site: str, chrome: dict) -> str:
    items = "".join(f'<li><a href="/{i}/">{escape(n)}</a></li>' for i, n in enumerate(chrome["nav"]))
    return (f'<header class="site-header" id="top"><a class="logo" href="/">{escape(site)}</a>'
            f'<nav class="main-nav" aria-label="main"><ul>{items}</ul></nav>'
            f'<form class="search-form" action="/search"><input type="search" name="q" '
            f'placeholder="{escape(chrome["search"])}"></form></header>')


def breadcrumb(chrome: dict, title: str) -> str:
    return (f'<nav class="breadcrumb"><a href="/">{escape(chrome["nav"][0])}</a> › '
            f'<a href="/1/">{escape(chrome["nav"][1])}</a> › <span>{escape(title)}</span></nav>')


def share_bar(chrome: dict) -> str:
    networks = ("Facebook", "X", "WhatsApp", "Pinterest", "E-mail")
    links = "".join(f'<a class="share-{n.lower()}" href="#share" rel="nofollow">{n}</a>' for n in networks)
    return f'<div class="share-buttons"><span>{escape(chrome["share"])}</span>{links}</div>'


def related_list(related: list[Page]) -> str:
    return "".join(f'<li><a href="/{p.slug.split("__")[1]}/">{escape(p.title)}</a></li>' for p in related)


def sidebar(chrome: dict, related: list[Page], css_class: str) -> str:
    return (f'<aside class="{css_class}">'
            f'<section class="widget related-posts"><h3>{escape(chrome["related"])}</h3>'
            f'<ul>{related_list(related)}</ul></section>'
            f'<section class="widget newsletter"><p>{escape(chrome["newsletter"])}</p>'
            f'<input type="email" placeholder="email@example.com"><button>{escape(chrome["subscribe"])}</button>'
            f'</section><section class="widget ad"><div class="ad-slot" data-slot="sidebar-300x250"></div>'
            f'</section></aside>')


def comments_section(chrome: dict) -> str:
    items = "".join(
        f'<li class="comment"><div class="comment-author vcard"><b class="fn">{escape(name)}</b></div>'
        f'<div class="comment-content"><p>{escape(text)}</p></div>'
        f'<a class="comment-reply-link" href="#respond">{escape(chrome["reply"])}</a></li>'
        for name, text in chrome["comments"])
    return (f'<section id="comments" class="comments-area"><h3 class="comments-title">'
            f'{escape(chrome["comments_title"])} ({len(chrome["comments"])})</h3>'
            f'<ol class="comment-list">{items}</ol>'
            f'<form id="respond" class="comment-form"><textarea name="comment"></textarea>'
            f'<button>{escape(chrome["reply"])}</button></form></section>')


def site_footer(site: str, chrome: dict) -> str:
    legal = "".join(f'<li><a href="/legal/{i}">{escape(n)}</a></li>' for i, n in enumerate(chrome["legal"]))
    nav = " · ".join(f'<a href="/{i}/">{escape(n)}</a>' for i, n in enumerate(chrome["nav"]))
    return (f'<footer class="site-footer"><div class="footer-nav">{nav}</div><ul class="legal">{legal}</ul>'
            f'<div class="social"><a href="#">Facebook</a> <a href="#">Instagram</a> <a href="#">YouTube</a></div>'
            f'<p class="copyright">© 2024 {escape(site)}. {escape(chrome["rights"])}</p>'
            f'<a class="back-to-top" href="#top">{escape(chrome["back_to_top"])}</a></footer>')


def render_news(cap: Capture, page: Page, chrome: dict, related: list[Page]) -> str:
    return f"""{cookie_banner(chrome)}
{site_header(cap.site, chrome)}
{breadcrumb(chrome, page.title)}
<main id="main" class="container">
<article class="article">
<header class="article-header"><h1>{escape(page.title)}</h1>
<p class="byline"><span class="author">{escape(chrome["author"])}</span> · <time datetime="{slug_date(page.slug)}">{slug_date(page.slug)}</time></p></header>
{share_bar(chrome)}
<div class="article-body">
{paragraphs_html(page)}
</div>
{share_bar(chrome)}
</article>
{sidebar(chrome, related, "sidebar")}
</main>
{comments_section(chrome)}
{site_footer(cap.site, chrome)}"""


def render_blog(cap: Capture, page: Page, chrome: dict, related: list[Page]) -> str:
    return f"""<div id="page" class="site">
{cookie_banner(chrome)}
{site_header(cap.site, chrome)}
<div id="content" class="site-content">
<div id="primary" class="content-area">
<div class="post hentry">
<h1 class="entry-title">{escape(page.title)}</h1>
<div class="entry-meta">{escape(chrome["author"])} · {slug_date(page.slug)}</div>
<div class="entry-content">
{paragraphs_html(page)}
</div>
{share_bar(chrome)}
</div>
{comments_section(chrome)}
</div>
{sidebar(chrome, related, "widget-area")}
</div>
{site_footer(cap.site, chrome)}
</div>"""


def render_shop(cap: Capture, page: Page, chrome: dict, related: list[Page]) -> str:
    stars = "".join(
        f'<div class="review"><span class="stars">★★★★★</span> <b>{escape(name)}</b><p>{escape(text)}</p></div>'
        for name, text in chrome["comments"])
    return f"""{cookie_banner(chrome)}
{site_header(cap.site, chrome)}
<main class="product-page">
{breadcrumb(chrome, page.title)}
<div class="product">
<div class="product-gallery"><img src="/media/{page.slug}-1.jpg" alt="{escape(page.title)}" width="600" height="600"></div>
<div class="product-summary"><h1 class="product-title">{escape(page.title)}</h1>
<p class="price">{escape(chrome["price"])}</p><p class="stock">{escape(chrome["in_stock"])}</p>
<button class="add-to-cart">{escape(chrome["add_to_cart"])}</button>
{share_bar(chrome)}</div>
</div>
<div class="product-description">
{paragraphs_html(page)}
</div>
<section id="reviews" class="reviews">{stars}</section>
<section class="related-products"><h3>{escape(chrome["related"])}</h3><ul>{related_list(related)}</ul></section>
<section class="newsletter"><p>{escape(chrome["newsletter"])}</p><button>{escape(chrome["subscribe"])}</button></section>
</main>
{site_footer(cap.site, chrome)}"""


def render_forum(cap: Capture, page: Page, chrome: dict, related: list[Page]) -> str:
    replies = "".join(
        f'<div class="post reply" id="p{i}"><div class="postprofile"><span class="username">{escape(name)}</span>'
        f'</div><div class="postbody"><div class="content"><p>{escape(text)}</p></div></div></div>'
        for i, (name, text) in enumerate(chrome["comments"], start=2))
    return f"""{cookie_banner(chrome)}
{site_header(cap.site, chrome)}
<div id="forum-wrapper">
{breadcrumb(chrome, page.title)}
<div class="thread">
<h1 class="thread-title">{escape(page.title)}</h1>
<div class="post first-post" id="p1">
<div class="postprofile"><span class="username">{escape(chrome["author"])}</span>
<span class="joined">{escape(chrome["joined"])} 2019</span></div>
<div class="postbody"><div class="content">
{paragraphs_html(page)}
</div></div>
</div>
{replies}
<div class="reply-box"><textarea name="message"></textarea><button>{escape(chrome["reply"])}</button></div>
</div>
<div class="similar-topics"><h3>{escape(chrome["related"])}</h3><ul>{related_list(related)}</ul></div>
</div>
{site_footer(cap.site, chrome)}"""


TEMPLATES = {"news": render_news, "blog": render_blog, "shop": render_shop, "forum": render_forum}


def charset_meta(cap: Capture) -> str:
    if cap.declared == "both":
        return f'<meta charset="{cap.charset}">'
    if cap.declared == "http-equiv":
        return f'<meta http-equiv="Content-Type" content="text/html; charset={cap.charset}">'
    return ""


def http_charset(cap: Capture) -> str | None:
    return {"both": cap.charset, "http-equiv": cap.charset, "none": None, "wrong-http": "iso-8859-1"}[cap.declared]


def render_document(cap: Capture, page: Page, related: list[Page], canonical: str) -> str:
    chrome = CHROME[page.lang]
    body = TEMPLATES[cap.template](cap, page, chrome, related)
    json_ld = json.dumps({"@context": "https://schema.org", "@type": "Article", "headline": page.title,
                          "datePublished": slug_date(page.slug), "author": chrome["author"],
                          "publisher": cap.site}, ensure_ascii=False)
    direction = ' dir="rtl"' if page.lang == "ar" else ""
    return f"""<!DOCTYPE html>
<html lang="{page.lang}"{direction}>
<head>
{charset_meta(cap)}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(page.title)} – {escape(cap.site)}</title>
<meta name="description" content="{escape(page.paragraphs[0][:150])}">
<link rel="canonical" href="{escape(canonical)}">
<link rel="stylesheet" href="/assets/css/main.css">
<style>{STYLE}</style>
<script type="application/ld+json">{json_ld}</script>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-7Q2XK4P1ZR"></script>
<script>{ANALYTICS_JS}</script>
</head>
<body class="template-{cap.template}">
{body}
<script>{CONSENT_JS}</script>
</body>
</html>
"""


def related_pages(page: Page, pages: dict[str, Page]) -> list[Page]:
    same_lang = [p for p in pages.values() if p.lang == page.lang and p.slug != page.slug]
    return same_lang[:4]


def encode_html(html: str, page: Page, charset: str) -> bytes:
    """Chrome symbols outside a legacy charset (€, ₽, …) become character references, as CMSs
    emit them; the article itself must be real legacy bytes, or the charset case tests nothing."""
    try:
        "\n".join((page.title, *page.paragraphs)).encode(charset)
    except UnicodeEncodeError as err:
        raise ValueError(f"{page.slug} cannot be written in {charset}: {err}") from err
    return html.encode(charset, errors="xmlcharrefreplace")


# --------------------------------------------------------------------------- fetches

@dataclass(frozen=True)
class Fetch:
    """One HTTP exchange: becomes a request record and a response record."""

    url: str
    kind: str  # html_200, non_html, redirect, 404
    status: str
    content_type: str
    body: bytes
    extra_headers: tuple[tuple[str, str], ...] = ()


MALFORMED = "malformed"  # placeholder in the crawl sequence for the corrupt gzip member


def html_fetches(pages: dict[str, Page]) -> list[Fetch]:
    by_url = {cap.url: cap for cap in CAPTURES}
    fetches = []
    for cap in CAPTURES:
        # An exact duplicate is the very same payload served at a second URL.
        source = by_url[cap.exact_duplicate_of] if cap.exact_duplicate_of else cap
        page = apply_edits(pages[source.slug], source.edits)
        html = render_document(source, page, related_pages(page, pages), canonical=source.url)
        ctype = "text/html" + (f"; charset={http_charset(cap)}" if http_charset(cap) else "")
        fetches.append(Fetch(cap.url, "html_200", "200 OK", ctype, encode_html(html, page, source.charset)))
    return fetches


def png_bytes(width: int = 16, height: int = 16) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + bytes(c for x in range(width) for c in (x * 16, y * 16, 160)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def pdf_bytes(text: str) -> bytes:
    stream = f"BT /F1 18 Tf 72 760 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def other_fetches() -> list[Fetch]:
    not_found = render_document(
        Capture("es__404", "https://www.cienciaclara.es/geologia/volcanes-de-lodo", "Ciencia Clara", "news"),
        Page("es__404", "es", "Página no encontrada",
             ("Lo sentimos, la página que buscas no existe o ha sido trasladada.",)),
        related=[], canonical="https://www.cienciaclara.es/")
    moved_to = "https://www.riversidecourier.co.uk/news/local/community-garden-doubles-in-size"
    moved = (f'<html><head><title>301 Moved Permanently</title></head><body><h1>Moved Permanently</h1>'
             f'<p>The document has moved <a href="{moved_to}">here</a>.</p></body></html>\n')
    return [
        Fetch("https://www.crumbandcrust.co.uk/wp-content/uploads/2024/02/starter-day5.png", "non_html",
              "200 OK", "image/png", png_bytes()),
        Fetch("https://shop.ridgeline-outdoor.com/media/ridgeline-trail-4-size-chart.pdf", "non_html",
              "200 OK", "application/pdf", pdf_bytes("Ridgeline Trail 4 - size chart")),
        Fetch("https://www.riversidecourier.co.uk/assets/css/main.css", "non_html",
              "200 OK", "text/css; charset=utf-8", STYLE.lstrip().encode()),
        Fetch("https://explainers.sciencebrief.org/static/js/consent.js", "non_html",
              "200 OK", "application/javascript; charset=utf-8", CONSENT_JS.lstrip().encode()),
        Fetch("http://riversidecourier.co.uk/news/local/community-garden-doubles-in-size", "redirect",
              "301 Moved Permanently", "text/html; charset=iso-8859-1", moved.encode(),
              extra_headers=(("Location", moved_to),)),
        Fetch("https://www.cienciaclara.es/geologia/volcanes-de-lodo", "404", "404 Not Found",
              "text/html; charset=utf-8", not_found.encode()),
    ]


def url_key(url: str) -> str:
    return hashlib.sha1(url.encode()).hexdigest()


def crawl_sequence(pages: dict[str, Page]) -> list[Fetch | str]:
    """Pages in a stable pseudo-random order, as a crawler interleaves hosts, with the odd
    records spread through the file rather than bunched at one end."""
    sequence: list[Fetch | str] = sorted(html_fetches(pages), key=lambda f: url_key(f.url))
    others = other_fetches()
    redirect = next(f for f in others if f.kind == "redirect")
    target = next(i for i, f in enumerate(sequence) if f.url == dict(redirect.extra_headers)["Location"])
    sequence.insert(target, redirect)
    for n, fetch in enumerate(f for f in others if f.kind != "redirect"):
        sequence.insert(6 + 11 * n, fetch)
    sequence.insert(2 * len(sequence) // 3, MALFORMED)
    return sequence


# --------------------------------------------------------------------------- WARC records

def record_id(kind: str, url: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{kind} {url}')}>"


def warc_date(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def http_date(dt: datetime) -> str:
    return dt.strftime("%a, %d %b %Y %H:%M:%S GMT")


def fake_ip(host: str) -> str:
    """A TEST-NET-3 address per host, so records look crawled without naming real machines."""
    return f"203.0.113.{int(url_key(host), 16) % 254 + 1}"


def request_target(url: str) -> tuple[str, str]:
    """Host header (IDNA, no port) and the request line path (no fragment), as a client sends them."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname.encode("idna").decode("ascii"), path


def request_record(writer: WARCWriter, fetch: Fetch, date: datetime):
    host, path = request_target(fetch.url)
    headers = [("Host", host), ("User-Agent", USER_AGENT),
               ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
               ("Accept-Language", "en-US,en;q=0.5"), ("Connection", "close")]
    http = StatusAndHeaders(f"GET {path} HTTP/1.1", headers, is_http_request=True)
    warc_headers = {"WARC-Record-ID": record_id("request", fetch.url), "WARC-Date": warc_date(date),
                    "WARC-IP-Address": fake_ip(host)}
    return writer.create_warc_record(fetch.url, "request", http_headers=http, warc_headers_dict=warc_headers)


def response_record(writer: WARCWriter, fetch: Fetch, date: datetime):
    host, _ = request_target(fetch.url)
    headers = [("Date", http_date(date)), ("Server", "nginx"), ("Content-Type", fetch.content_type),
               ("Content-Length", str(len(fetch.body))), *fetch.extra_headers,
               ("Cache-Control", "max-age=600"), ("Connection", "close")]
    http = StatusAndHeaders(fetch.status, headers, protocol="HTTP/1.1")
    warc_headers = {"WARC-Record-ID": record_id("response", fetch.url), "WARC-Date": warc_date(date),
                    "WARC-IP-Address": fake_ip(host),
                    "WARC-Concurrent-To": record_id("request", fetch.url),
                    "WARC-Identified-Payload-Type": fetch.content_type.split(";")[0]}
    return writer.create_warc_record(fetch.url, "response", payload=BytesIO(fetch.body), length=len(fetch.body),
                                     http_headers=http, warc_headers_dict=warc_headers)


def metadata_record(writer: WARCWriter, fetch: Fetch, date: datetime):
    """Shaped like Common Crawl's per-capture metadata record."""
    fields = ("fetchTimeMs: 212\r\ncharset-detected: UTF-8\r\n"
              'languages-cld2: {"reliable":true,"text-bytes":1874,"languages":'
              '[{"code":"en","code-iso-639-3":"eng","text-covered":0.97,"score":981.0,"name":"ENGLISH"}]}\r\n')
    payload = fields.encode()
    warc_headers = {"WARC-Record-ID": record_id("metadata", fetch.url), "WARC-Date": warc_date(date),
                    "WARC-Concurrent-To": record_id("response", fetch.url),
                    "Content-Type": "application/warc-fields"}
    return writer.create_warc_record(fetch.url, "metadata", payload=BytesIO(payload), length=len(payload),
                                     warc_headers_dict=warc_headers)


def warcinfo_record(writer: WARCWriter, filename: str):
    fields = ("software: curate samples/make_sample.py\r\n"
              "format: WARC File Format 1.0\r\n"
              "isPartOf: curate-sample-2024\r\n"
              "description: Demo crawl for the curation pipeline; page texts written for the project\r\n"
              f"http-header-user-agent: {USER_AGENT}\r\n"
              "robots: checked via crawler-commons\r\n")
    payload = fields.encode()
    warc_headers = {"WARC-Record-ID": record_id("warcinfo", filename), "WARC-Date": warc_date(CRAWL_START),
                    "WARC-Filename": filename, "Content-Type": "application/warc-fields"}
    return writer.create_warc_record("", "warcinfo", payload=BytesIO(payload), length=len(payload),
                                     warc_headers_dict=warc_headers)


def malformed_member() -> bytes:
    """A gzip member whose record header is garbage; a reader should skip to the next member."""
    garbage = (b"WARX/9.9 garbage\r\nWARC-Type: respnse\r\nContent-Length: twelve\r\n\r\n"
               b"<html><body>truncated half of a record</body></html>\r\n\r\n")
    return gzip.compress(garbage, compresslevel=9, mtime=0)


# The page that gets a metadata record after its response, as Common Crawl writes them.
METADATA_FOR = "https://explainers.sciencebrief.org/energy/how-heat-pumps-work#how-it-works"


def write_warc(out: Path, sequence: list[Fetch | str]) -> Counter:
    counts = Counter()
    step = CRAWL_SPAN / len(sequence)
    with out.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.0")
        writer.write_record(warcinfo_record(writer, out.name))
        counts["warcinfo"] += 1
        for i, item in enumerate(sequence):
            if item == MALFORMED:
                fh.write(malformed_member())
                counts["malformed"] += 1
                continue
            date = (CRAWL_START + step * (i + 1)).replace(microsecond=0)
            writer.write_record(request_record(writer, item, date))
            writer.write_record(response_record(writer, item, date))
            counts["request"] += 1
            counts[f"response_{item.kind}"] += 1
            if item.url == METADATA_FOR:
                writer.write_record(metadata_record(writer, item, date))
                counts["metadata"] += 1
    return counts


# --------------------------------------------------------------------------- expected.json

def expected_summary(out: Path, counts: Counter, pages: dict[str, Page]) -> dict:
    page_entries = [{
        "url": cap.url,
        "source": f"pages/{cap.slug}.txt",
        "title": pages[cap.slug].title,
        "lang": pages[cap.slug].lang,
        "template": cap.template,
        # Labels are lower-cased here; the payloads keep the spelling sites use (Shift_JIS, KOI8-R).
        "charset": cap.charset.lower(),
        "http_charset": (http_charset(cap) or "").lower() or None,
        "meta_charset": cap.charset.lower() if cap.declared in ("both", "http-equiv") else None,
        "near_duplicate_group": cap.near_duplicate_group,
        "exact_duplicate_of": cap.exact_duplicate_of,
        "filter_expectation": cap.filter_expectation,
        **({"pii": list(cap.pii)} if cap.pii else {}),
    } for cap in CAPTURES]
    kinds = ("warcinfo", "request", "response_html_200", "response_non_html", "response_redirect",
             "response_404", "metadata", "malformed")
    return {
        "warc": out.name,
        "records": {k: counts[k] for k in kinds},
        "html_200_pages_per_language": dict(sorted(Counter(p["lang"] for p in page_entries).items())),
        "pages": page_entries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="WARC to write; expected.json goes beside it")
    args = parser.parse_args()

    pages = load_pages()
    counts = write_warc(args.out, crawl_sequence(pages))
    summary = expected_summary(args.out, counts, pages)
    expected = args.out.with_name("expected.json")
    expected.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) and {expected}: {summary['records']}")


if __name__ == "__main__":
    main()
