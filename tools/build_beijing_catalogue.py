"""One-off: build the Beijing profile's catalogue.csv from the Teddy Cup 2020 label system.

Run once to produce ``src/megacity/profiles/beijing/catalogue.csv``; from then on the CSV is the
source of truth and is edited by hand. The script is kept so that a reviewer can see the rules
behind the responsible/urgency columns in one place, and so that the codes can be regenerated if
the label system is ever re-imported. It is not part of the package: nothing imports it.

Usage::

    .venv/bin/python tools/build_beijing_catalogue.py \
        ../shared/data/messages/teddycup2020_c/附件1_label_system.csv \
        src/megacity/profiles/beijing/catalogue.csv

Codes come from the PATH, never from the name (names such as 其他 repeat under many parents):
level 1 ``01``..``15`` in file order, level 2 ``0101`` in order of first appearance under its
parent, level 3 ``010101`` likewise. Rules below are matched by the longest path prefix.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

T = "territorial"

# Responsible unit by path prefix (level-1, level-2, level-3 names). Longest prefix wins.
# Codes: D### municipal departments, C### public-service companies (see units.csv).
RESPONSIBLE: dict[tuple[str, ...], str] = {
    ("城乡建设",): T,
    ("城乡建设", "安全生产", "安全生产管理"): "D019",
    ("城乡建设", "城市建设和市政管理", "公共汽车"): "C005",
    ("城乡建设", "城市建设和市政管理", "公园管理"): "D013",
    ("城乡建设", "城市建设和市政管理", "冬季采暖"): "C004",
    ("城乡建设", "城市建设和市政管理", "地铁城铁"): "C006",
    ("城乡建设", "城市建设和市政管理", "燃气供应"): "C003",
    ("城乡建设", "城市建设和市政管理", "电力供应"): "C002",
    ("城乡建设", "城市建设和市政管理", "自来水供应"): "C001",
    ("城乡建设", "城乡规划"): "D003",
    ("城乡建设", "城乡规划", "违章建筑"): T,
    ("城乡建设", "工程质量"): "D002",
    ("城乡建设", "国有土地上房屋征收与补偿"): "D002",
    ("城乡建设", "集体土地上房屋拆迁与补偿"): "D003",
    ("城乡建设", "建筑市场"): "D002",
    ("城乡建设", "住房保障与房地产"): "D002",
    ("城乡建设", "住房保障与房地产", "住房公积金"): "D022",
    ("城乡建设", "住房保障与房地产", "物业服务"): T,
    ("城乡建设", "住房保障与房地产", "修缮装修"): T,
    ("城乡建设", "住房保障与房地产", "房产证登记、办理"): "D003",
    ("党务政务",): "D020",
    ("党务政务", "港澳台侨", "港澳事务"): "D029",
    ("党务政务", "国防外交", "外交外事"): "D029",
    ("党务政务", "民族宗教"): "D028",
    ("党务政务", "国防外交", "军事国防"): "D025",
    ("国土资源",): "D003",
    ("国土资源", "海洋气象地震", "气象"): "D019",
    ("国土资源", "海洋气象地震", "地震"): "D019",
    ("国土资源", "土地征收", "失地农民保障"): "D007",
    ("环境保护",): "D010",
    ("环境保护", "环保管理", "污染损害纠纷调解"): T,
    ("环境保护", "环境污染", "噪音污染"): T,
    ("环境保护", "环境污染", "固体污染"): T,
    ("环境保护", "环境污染", "大气污染"): T,
    ("环境保护", "环境污染", "其他污染"): T,
    ("环境保护", "环境污染", "其他"): T,
    ("环境保护", "其他"): T,
    ("纪检监察",): "D036",
    ("交通运输",): "D004",
    ("交通运输", "邮政管理"): "D035",
    ("经济管理",): "D024",
    ("经济管理", "安全生产"): "D019",
    ("经济管理", "安全生产", "事故处理"): T,
    ("经济管理", "安全生产", "安全隐患"): T,
    ("经济管理", "保险证券期货"): "D033",
    ("经济管理", "国资监管"): "D031",
    ("经济管理", "金融财税"): "D033",
    ("经济管理", "金融财税", "税收征管"): "D037",
    ("经济管理", "金融财税", "财政收支"): "D032",
    ("经济管理", "能源管理", "能源开发供应"): "D001",
    ("经济管理", "能源管理", "新能源产品研发与推广"): "D023",
    ("经济管理", "企业破产"): "D031",
    ("科技与信息产业",): "D023",
    ("科技与信息产业", "电信"): "D034",
    ("科技与信息产业", "科学技术"): "D030",
    ("科技与信息产业", "知识产权"): "D008",
    ("民政",): "D011",
    ("民政", "复退安置"): "D025",
    ("民政", "优抚"): "D025",
    ("民政", "基层选举和社区建设"): T,
    ("民政", "社会救助"): T,
    ("民政", "社会救助", "医疗救助"): "D017",
    ("农村农业",): "D018",
    ("农村农业", "草原草场"): "D013",
    ("农村农业", "村务管理"): T,
    ("农村农业", "林业管理"): "D013",
    ("农村农业", "林业管理", "水土流失"): "D012",
    ("农村农业", "农副产品流通", "价格质量"): "D008",
    ("农村农业", "农副产品流通", "粮食储备"): "D024",
    ("农村农业", "水库移民"): "D012",
    ("农村农业", "水利水电"): "D012",
    ("农村农业", "土地承包经营"): T,
    ("农村农业", "野生资源管理"): "D013",
    ("商贸旅游",): "D015",
    ("商贸旅游", "旅游管理"): "D014",
    ("商贸旅游", "商业贸易", "劳务输出"): "D007",
    ("商贸旅游", "商业贸易", "市场垄断"): "D008",
    ("商贸旅游", "市场监管"): "D008",
    ("商贸旅游", "质监检验检疫"): "D008",
    ("卫生计生",): "D006",
    ("卫生计生", "人口计生", "计划生育服务管理"): T,
    ("卫生计生", "食品药品监管"): "D008",
    ("卫生计生", "医政监管", "医疗收费"): "D017",
    ("政法",): "D016",
    ("政法", "户籍证件"): "D021",
    ("政法", "户籍证件", "流动人口管理"): T,
    ("政法", "仲裁与调解", "司法调解"): T,
    ("政法", "交通管理"): "D009",
    ("政法", "警务督察"): "D021",
    ("政法", "社会治安"): "D021",
    ("政法", "社会治安", "消防安全"): "D019",
    ("政法", "刑案侦破"): "D021",
    ("政法", "仲裁与调解", "劳动仲裁"): "D007",
    ("政法", "仲裁与调解", "人事仲裁"): "D007",
    ("教育文体",): "D005",
    ("教育文体", "体育"): "D026",
    ("教育文体", "文化"): "D014",
    ("教育文体", "文物管理"): "D027",
    ("劳动和社会保障",): "D007",
    ("劳动和社会保障", "城镇居民社会保险", "新农村合作医疗"): "D017",
    ("劳动和社会保障", "城镇居民社会保险", "城镇居民医疗保险"): "D017",
    ("劳动和社会保障", "城镇职工社会保险", "职工医疗保险"): "D017",
    ("劳动和社会保障", "城镇职工社会保险", "职工生育保险"): "D017",
    ("劳动和社会保障", "工资福利", "住房公积金"): "D022",
}

# Urgency by path prefix; anything unmatched is "general".
URGENCY: dict[tuple[str, ...], str] = {
    # emergency: incidents and hazards with risk to life or property, public safety
    ("城乡建设", "安全生产", "事故处理"): "emergency",
    ("城乡建设", "安全生产", "安全隐患"): "emergency",
    ("城乡建设", "工程质量", "施工安全"): "emergency",
    ("环境保护", "环境污染", "危险化学品污染"): "emergency",
    ("环境保护", "环境污染", "放射性污染"): "emergency",
    ("交通运输", "客货运输", "运输安全"): "emergency",
    ("经济管理", "安全生产", "事故处理"): "emergency",
    ("经济管理", "安全生产", "安全隐患"): "emergency",
    ("农村农业", "动物防疫", "疫情防控"): "emergency",
    ("农村农业", "林业管理", "森林防火"): "emergency",
    ("农村农业", "水利水电", "防汛抗旱"): "emergency",
    ("商贸旅游", "质监检验检疫", "特种设备管理"): "emergency",
    ("卫生计生", "公共卫生", "突发公共卫生事件处理"): "emergency",
    ("政法", "交通管理", "交通事故"): "emergency",
    ("政法", "社会治安", "消防安全"): "emergency",
    ("政法", "社会治安", "防范打击恐怖活动"): "emergency",
    ("政法", "社会治安", "拐卖人口"): "emergency",
    ("政法", "社会治安", "治安案件"): "emergency",
    ("教育文体", "教育行政管理", "校园安全"): "emergency",
    # timely: 水电气热 basic livelihood (REG Art. 19, STD 2 h dispatch)
    ("城乡建设", "城市建设和市政管理", "冬季采暖"): "timely",
    ("城乡建设", "城市建设和市政管理", "燃气供应"): "timely",
    ("城乡建设", "城市建设和市政管理", "电力供应"): "timely",
    ("城乡建设", "城市建设和市政管理", "自来水供应"): "timely",
    # complex: land, demolition, planning, property titles and legacy (历史遗留) matters
    ("城乡建设", "城乡规划", "规划方案"): "complex",
    ("城乡建设", "城乡规划", "容积挡光"): "complex",
    ("城乡建设", "城乡规划", "历史名城保护"): "complex",
    ("城乡建设", "城乡规划", "规划设计"): "complex",
    ("城乡建设", "国有土地上房屋征收与补偿"): "complex",
    ("城乡建设", "集体土地上房屋拆迁与补偿"): "complex",
    ("城乡建设", "建筑市场", "拖欠工程款"): "complex",
    ("城乡建设", "住房保障与房地产", "房产证登记、办理"): "complex",
    ("城乡建设", "住房保障与房地产", "房改政策"): "complex",
    ("国土资源", "土地征收"): "complex",
    ("国土资源", "土地资源管理", "土地权属纠纷"): "complex",
    ("经济管理", "国资监管", "企业改制"): "complex",
    ("经济管理", "企业破产", "政策性破产"): "complex",
    ("民政", "区划地名", "边界纠纷"): "complex",
    ("农村农业", "林业管理", "林权改革及权属纠纷"): "complex",
    ("农村农业", "其他", "农村“八大员”问题"): "complex",
    ("农村农业", "水库移民"): "complex",
    ("农村农业", "土地承包经营", "宅基地纠纷"): "complex",
    ("卫生计生", "医患纠纷", "医疗事故争议"): "complex",
    ("教育文体", "教师队伍和待遇", "企业教师"): "complex",
    ("教育文体", "教师队伍和待遇", "原民办代课教师"): "complex",
}

HEADER = ["code", "name", "level", "parent_code", "responsible", "urgency", "valid_from", "valid_to"]


def _lookup(rules: dict[tuple[str, ...], str], path: tuple[str, ...], default: str) -> str:
    for n in range(len(path), 0, -1):
        if path[:n] in rules:
            return rules[path[:n]]
    return default


def build(source: Path) -> list[list[str]]:
    """Return the catalogue rows (without header) for the label-system CSV at `source`."""
    with source.open(encoding="utf-8", newline="") as fh:
        rows = [tuple(cell.strip() for cell in r) for r in list(csv.reader(fh))[1:] if r]
    codes: dict[tuple[str, ...], str] = {}
    out: list[list[str]] = []
    used: set[tuple[str, ...]] = set()
    for row in rows:
        if row in used:  # an exact repeat of a whole path is dropped
            continue
        used.add(row)
        for depth in range(1, len(row) + 1):
            path = row[:depth]
            if path in codes:
                continue
            parent = codes.get(path[:-1], "")
            siblings = sum(1 for p in codes if len(p) == depth and p[:-1] == path[:-1])
            code = f"{parent}{siblings + 1:02d}"
            codes[path] = code
            leaf = depth == len(row)
            responsible = _lookup(RESPONSIBLE, path, T) if leaf else ""
            urgency = _lookup(URGENCY, path, "general") if leaf else ""
            out.append([code, path[-1], str(depth), parent, responsible, urgency, "", ""])
    return out


def _all_paths(source: Path) -> set[tuple[str, ...]]:
    with source.open(encoding="utf-8", newline="") as fh:
        rows = [tuple(cell.strip() for cell in r) for r in list(csv.reader(fh))[1:] if r]
    return {row[:n] for row in rows for n in range(1, len(row) + 1)}


def main(argv: list[str]) -> int:
    source, target = Path(argv[1]), Path(argv[2])
    rows = build(source)
    paths = _all_paths(source)
    for rules in (RESPONSIBLE, URGENCY):
        for key in rules:
            if key not in paths:
                print(f"warning: rule {'/'.join(key)} matches no category", file=sys.stderr)
    with target.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    print(f"{len(rows)} categories written to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
