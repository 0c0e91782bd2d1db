"""News text in the legacy encodings feeds still use, for the encoding tests and
benchmarks/encodings.py.  Our own sentences, two per language: DEV is what the
detection was tuned on, TEST what the figures are reported on (never tuned on).

Each case is (encoding the feed is written in, language, sentence); a feed made of
it declares no encoding anywhere, so the bytes alone must tell.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

DEV = [
    (
        "big5",
        "zh-TW",
        "台北市政府今天宣布，新的地鐵路線將於明年開通。市長表示，這項計畫將改善交通並減少空氣污染。",
    ),
    (
        "gb2312",
        "zh-CN",
        "国家统计局今天发布数据，上个月工业生产同比增长百分之五，消费市场继续恢复。",
    ),
    (
        "euc-jp",
        "ja",
        "東京都は今日、新しい防災計画を発表しました。地震や台風に備えて、避難所の数を増やす予定です。",
    ),
    (
        "shift_jis",
        "ja",
        "大阪の商店街では、年末の買い物客でにぎわっています。店主たちは売り上げの回復に期待しています。",
    ),
    (
        "euc-kr",
        "ko",
        "서울시는 오늘 새로운 대중교통 정책을 발표했습니다. 버스 요금은 내년부터 인하될 예정입니다.",
    ),
    ("tis-620", "th", "กรุงเทพมหานครประกาศแผนพัฒนาระบบขนส่งสาธารณะใหม่ เพื่อลดปัญหาการจราจรติดขัดในเมือง"),
    (
        "windows-1255",
        "he",
        "ראש העיר הודיע היום על תוכנית חדשה לשיפור התחבורה הציבורית בעיר. הקווים החדשים ייפתחו בשנה הבאה.",
    ),
    (
        "windows-1253",
        "el",
        "Η κυβέρνηση ανακοίνωσε σήμερα νέα μέτρα για την οικονομία και τη στήριξη των μικρών επιχειρήσεων.",
    ),
    (
        "windows-1256",
        "ar",
        "أعلنت الحكومة اليوم عن خطة جديدة لتطوير البنية التحتية في المدن الكبرى خلال السنوات القادمة.",
    ),
    (
        "windows-1251",
        "ru",
        "Правительство Казахстана утвердило новую программу развития транспорта. Строительство дорог начнётся весной.",
    ),
    (
        "koi8-r",
        "ru",
        "Аким Астаны провёл встречу с жителями района и пообещал отремонтировать школы до начала учебного года.",
    ),
    (
        "windows-1252",
        "fr",
        "Le gouvernement français a présenté aujourd'hui une réforme des retraites très contestée par les syndicats.",
    ),
    (
        "windows-1250",
        "pl",
        "Rząd ogłosił dziś nowy program wsparcia dla rolników, którzy ucierpieli z powodu suszy.",
    ),
    (
        "kz1048",
        "kk",
        "Үкімет ауыл шаруашылығын қолдаудың жаңа бағдарламасын бекітті. Өңірлерге қаржы көктемде бөлінеді.",
    ),
    (
        "windows-1251",
        "uk",
        "Уряд України оголосив нову програму підтримки фермерів, які постраждали від посухи.",
    ),
    (
        "windows-1251",
        "sr",
        "Влада Србије је усвојила нови закон о јавним набавкама. Ђаци ће од јесени учити у "
        "обновљеним школама, а грађани ће добити бржи приступ њиховим услугама.",
    ),
    (
        "windows-1251",
        "mk",
        "Владата ќе ги зголеми платите во јавниот сектор. Министерот изјави дека буџетот ќе "
        "биде усвоен до крајот на годината, а прашањето за ѕидовите ќе остане отворено.",
    ),
]

TEST = [
    ("big5", "zh-TW", "颱風預計週末登陸台灣東部，氣象局提醒民眾注意強風豪雨，並做好防災準備。"),
    ("gb2312", "zh-CN", "北京市将在下周举办国际图书博览会，来自六十多个国家的出版商将参加展览。"),
    (
        "euc-jp",
        "ja",
        "人気ゲームの新作が来月発売されることが決まり、ファンの間で話題になっています。ゲーム三昧な週末を楽しみにする声も多い。",
    ),
    (
        "shift_jis",
        "ja",
        "北海道では今朝、今シーズン一番の冷え込みとなり、各地で氷点下を記録しました。",
    ),
    (
        "euc-kr",
        "ko",
        "한국 축구 대표팀이 어젯밤 경기에서 승리하여 월드컵 본선 진출을 확정했습니다.",
    ),
    ("tis-620", "th", "กรมอุตุนิยมวิทยาเตือนประชาชนให้ระวังฝนตกหนักในภาคใต้ตลอดสัปดาห์นี้"),
    (
        "windows-1255",
        "he",
        "משרד הבריאות פרסם הנחיות חדשות לקראת החורף, וקורא לציבור להתחסן נגד שפעת.",
    ),
    (
        "windows-1253",
        "el",
        "Ισχυρός σεισμός σημειώθηκε το πρωί στην Κρήτη, χωρίς να αναφερθούν ζημιές σε κτίρια.",
    ),
    (
        "windows-1256",
        "ar",
        "ارتفعت أسعار النفط في الأسواق العالمية بعد قرار الدول المنتجة خفض الإنتاج.",
    ),
    (
        "windows-1251",
        "ru",
        "В Алматы прошёл международный форум, посвящённый цифровой экономике и инновациям.",
    ),
    (
        "koi8-r",
        "ru",
        "Синоптики предупредили жителей Караганды о сильном ветре и гололёде в выходные.",
    ),
    (
        "windows-1252",
        "de",
        "Die Bundesregierung plant höhere Investitionen in Schulen und Straßen für das nächste Jahr.",
    ),
    (
        "windows-1250",
        "cs",
        "Vláda dnes schválila nový zákon o podpoře obnovitelných zdrojů energie a úsporách.",
    ),
    (
        "kz1048",
        "kk",
        "Алматыда күшті жел соғып, бірнеше ағаш құлады. Синоптиктер ертең де ауа райы салқын болатынын айтты.",
    ),
    (
        "windows-1251",
        "uk",
        "Синоптики попередили мешканців Києва про сильний вітер і ожеледицю на вихідних.",
    ),
    (
        "windows-1251",
        "sr",
        "Градоначелник Београда најавио је изградњу новог моста преко Саве, а радови ће "
        "почети следеће године.",
    ),
    (
        "windows-1251",
        "mk",
        "Министерството за здравство соопшти дека ќе набави нови возила за брза помош, а "
        "болниците ќе добијат нова опрема и ќе вработат лекари.",
    ),
]


def legacy_feed(encoding: str, language: str, sentence: str, *, short: bool = False) -> bytes:
    """An RSS feed in ``encoding`` that declares no encoding: the sentence is the
    first item's description, its first clause the title; two more items repeat
    parts of it, as a news feed's items share words.  ``short``: one item with only
    the sentence as its title (the least evidence a feed gives)."""
    if short:
        return (
            '<rss version="2.0"><channel><title>News</title><item>'
            f"<title>{escape(sentence)}</title></item></channel></rss>"
        ).encode(encoding)
    words = sentence.split()
    clause = sentence.split("，")[0].split("、")[0].split(",")[0].split(".")[0].split("。")[0]
    if len(words) > 4:
        clause = " ".join(words[: max(4, len(words) // 2)])
    items = "".join(
        f"<item><title>{escape(title)}</title><link>https://news.example/{n}</link>"
        f"<description>{escape(body)}</description></item>"
        for n, (title, body) in enumerate(
            [(clause, sentence), (sentence[-20:], sentence), (sentence[:15], clause)], 1
        )
    )
    doc = (
        '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>News</title>'
        f"<link>https://news.example/</link><language>{language}</language>{items}</channel></rss>"
    )
    return doc.encode(encoding)
