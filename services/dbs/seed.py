"""The demo hospital's master data: departments, doctors, price list, drugs, devices and the small catalogues.

`seed_demo` runs in the caller's unit of work and does nothing when departments already exist, so a second
`make up` neither duplicates nor overwrites anything a user has changed since.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from common.db import WriteSession
from services.dbs.models import (
    Department,
    Device,
    Doctor,
    Drug,
    DrugOrigin,
    Handler,
    ItemCategory,
    MedicalItem,
    RegistrationType,
    Supplier,
    Unit,
    Warehouse,
)

# code, name, kind
DEPARTMENTS = [
    ("NK", "内科", "clinical"),
    ("WK", "外科", "clinical"),
    ("EK", "儿科", "clinical"),
    ("FCK", "妇产科", "clinical"),
    ("YK", "眼科", "clinical"),
    ("EBHK", "耳鼻喉科", "clinical"),
    ("KQK", "口腔科", "clinical"),
    ("JZK", "急诊科", "clinical"),
    ("JYK", "检验科", "medical_technical"),
    ("FSK", "放射科", "medical_technical"),
    ("YJK", "药剂科", "medical_technical"),
    ("CWK", "财务科", "administrative"),
]

# code, name, fee
REGISTRATION_TYPES = [
    ("PT", "普通号", "10.00"),
    ("ZJ", "专家号", "30.00"),
    ("JZ", "急诊号", "15.00"),
]

# code, name, gender, department, title, default registration type, practice
DOCTORS = [
    ("D001", "张建国", "male", "NK", "chief", "ZJ", "outpatient"),
    ("D002", "李秀英", "female", "NK", "attending", "PT", "outpatient"),
    ("D003", "王磊", "male", "NK", "resident", "PT", "inpatient"),
    ("D004", "刘伟", "male", "WK", "associate_chief", "ZJ", "outpatient"),
    ("D005", "陈静", "female", "WK", "attending", "PT", "inpatient"),
    ("D006", "杨帆", "male", "EK", "chief", "ZJ", "outpatient"),
    ("D007", "赵敏", "female", "EK", "resident", "PT", "outpatient"),
    ("D008", "黄丽华", "female", "FCK", "associate_chief", "ZJ", "outpatient"),
    ("D009", "周婷", "female", "FCK", "attending", "PT", "inpatient"),
    ("D010", "吴强", "male", "YK", "attending", "PT", "outpatient"),
    ("D011", "徐明", "male", "EBHK", "associate_chief", "ZJ", "outpatient"),
    ("D012", "孙燕", "female", "KQK", "attending", "PT", "outpatient"),
    ("D013", "马超", "male", "JZK", "attending", "JZ", "outpatient"),
    ("D014", "朱晓东", "male", "JZK", "resident", "JZ", "inpatient"),
]

UNITS = [
    ("HE", "盒"), ("PING", "瓶"), ("ZHI", "支"), ("PIAN", "片"), ("DAI", "袋"), ("LI", "粒"),
    ("CI", "次"), ("GE", "个"), ("TAO", "套"), ("KE", "克"), ("TAI", "台"), ("TIAN", "天"),
]

# Manufacturers with their home region, and the growing regions of herbal pieces.
DRUG_ORIGINS = [
    ("YZJ", "扬子江药业 江苏泰州"),
    ("SYJT", "石药集团 河北石家庄"),
    ("ZMSK", "中美天津史克 天津"),
    ("BYS", "白云山制药 广东广州"),
    ("AZ", "阿斯利康制药 江苏无锡"),
    ("HRSJ", "华润三九 广东深圳"),
    ("YLYY", "以岭药业 河北石家庄"),
    ("TRT", "北京同仁堂 北京"),
    ("TSL", "天士力医药 天津"),
    ("MXDG", "甘肃岷县"),
    ("NXZN", "宁夏中宁"),
    ("WGJT", "威高集团 山东威海"),
    ("ZDYL", "振德医疗 浙江绍兴"),
    ("YYYL", "鱼跃医疗 江苏丹阳"),
]

ITEM_CATEGORIES = [("JY", "检验"), ("YX", "影像"), ("ZL", "治疗"), ("SS", "手术"), ("HL", "护理")]

# code, name, category, unit, price, executing department, result required
MEDICAL_ITEMS = [
    ("JY001", "血常规", "JY", "CI", "20.00", "JYK", True),
    ("JY002", "尿常规", "JY", "CI", "15.00", "JYK", True),
    ("JY003", "肝功能", "JY", "CI", "60.00", "JYK", True),
    ("JY004", "肾功能", "JY", "CI", "45.00", "JYK", True),
    ("JY005", "空腹血糖", "JY", "CI", "10.00", "JYK", True),
    ("YX001", "胸部X线", "YX", "CI", "80.00", "FSK", True),
    ("YX002", "腹部B超", "YX", "CI", "120.00", "FSK", True),
    ("YX003", "CT平扫", "YX", "CI", "280.00", "FSK", True),
    ("YX004", "磁共振平扫", "YX", "CI", "680.00", "FSK", True),
    ("ZL001", "静脉输液", "ZL", "CI", "15.00", "JZK", False),
    ("ZL002", "肌肉注射", "ZL", "CI", "5.00", "JZK", False),
    ("ZL003", "雾化吸入", "ZL", "CI", "20.00", "EK", False),
    ("SS001", "清创缝合术", "SS", "CI", "180.00", "WK", False),
    ("SS002", "牙齿拔除术", "SS", "CI", "80.00", "KQK", False),
    ("HL001", "一级护理", "HL", "TIAN", "28.00", "NK", False),
    ("HL002", "换药", "HL", "CI", "25.00", "WK", False),
]

# code, name, generic name, specification, dosage form, unit, origin, category, retail price,
# low-stock threshold, prescription only
DRUGS = [
    ("XY001", "阿莫西林胶囊", "阿莫西林", "0.25g×24粒", "胶囊剂", "HE", "SYJT", "western", "12.50", 50, True),
    ("XY002", "布洛芬缓释胶囊", "布洛芬", "0.3g×20粒", "胶囊剂", "HE", "ZMSK", "western", "18.80", 40, False),
    ("XY003", "头孢克肟分散片", "头孢克肟", "0.1g×6片", "片剂", "HE", "BYS", "western", "28.00", 30, True),
    ("XY004", "奥美拉唑肠溶胶囊", "奥美拉唑", "20mg×14粒", "胶囊剂", "HE", "AZ", "western", "32.60", 30, True),
    ("XY005", "盐酸二甲双胍片", "二甲双胍", "0.5g×48片", "片剂", "HE", "SYJT", "western", "9.80", 60, True),
    ("XY006", "苯磺酸氨氯地平片", "氨氯地平", "5mg×7片", "片剂", "HE", "YZJ", "western", "15.20", 60, True),
    ("XY007", "蒙脱石散", "蒙脱石", "3g×10袋", "散剂", "HE", "YZJ", "western", "16.50", 30, False),
    ("XY008", "氯化钠注射液", "氯化钠", "0.9% 250ml", "注射剂", "PING", "SYJT", "western", "3.50", 200, True),
    ("XY009", "葡萄糖注射液", "葡萄糖", "5% 250ml", "注射剂", "PING", "SYJT", "western", "3.80", 200, True),
    ("XY010", "注射用头孢曲松钠", "头孢曲松钠", "1.0g", "注射剂", "ZHI", "SYJT", "western", "8.60", 100, True),
    ("XY011", "盐酸左氧氟沙星片", "左氧氟沙星", "0.5g×4片", "片剂", "HE", "YZJ", "western", "21.00", 30, True),
    ("XY012", "氯雷他定片", "氯雷他定", "10mg×6片", "片剂", "HE", "YZJ", "western", "19.90", 30, False),
    ("ZC001", "连花清瘟胶囊", None, "0.35g×24粒", "胶囊剂", "HE", "YLYY", "chinese_patent", "14.80", 50, False),
    ("ZC002", "板蓝根颗粒", None, "10g×20袋", "颗粒剂", "HE", "BYS", "chinese_patent", "12.00", 40, False),
    ("ZC003", "感冒灵颗粒", None, "10g×9袋", "颗粒剂", "HE", "HRSJ", "chinese_patent", "11.50", 40, False),
    ("ZC004", "复方丹参滴丸", None, "27mg×180丸", "滴丸剂", "HE", "TSL", "chinese_patent", "26.50", 20, False),
    ("ZC005", "六味地黄丸", None, "浓缩丸 200丸", "丸剂", "PING", "TRT", "chinese_patent", "18.00", 20, False),
    ("ZC006", "安宫牛黄丸", None, "3g×1丸", "丸剂", "HE", "TRT", "chinese_patent", "780.00", 5, True),
    ("ZY001", "当归", None, "片 净制", "饮片", "KE", "MXDG", "herbal", "0.12", 5000, True),
    ("ZY002", "枸杞子", None, "净制", "饮片", "KE", "NXZN", "herbal", "0.15", 5000, True),
]

# code, name, specification, unit, origin, category, retail price, low-stock threshold
DEVICES = [
    ("QC001", "一次性使用无菌注射器", "5ml 带针", "ZHI", "WGJT", "consumable", "0.60", 500),
    ("QC002", "一次性使用输液器", "带针 0.7mm", "TAO", "WGJT", "consumable", "1.80", 300),
    ("QC003", "医用外科口罩", "17.5cm×9.5cm 50只", "HE", "ZDYL", "consumable", "25.00", 50),
    ("QC004", "医用纱布块", "8cm×10cm-8层 10片", "DAI", "ZDYL", "consumable", "2.50", 200),
    ("QC005", "电子血压计", "YE680A 上臂式", "TAI", "YYYL", "equipment", "268.00", 2),
    ("QC006", "医用制氧机", "YU300 3L", "TAI", "YYYL", "equipment", "2380.00", 1),
]

# code, name, location
WAREHOUSES = [
    ("XYK", "西药库", "门诊楼负一层西侧"),
    ("ZYK", "中药库", "门诊楼负一层东侧"),
    ("QCK", "器材库", "后勤楼一层"),
]

# code, name, phone (placeholder numbers)
HANDLERS = [
    ("JB01", "王芳", "13800000001"),
    ("JB02", "李娜", "13800000002"),
    ("JB03", "张伟", "13800000003"),
    ("JB04", "刘洋", "13800000004"),
]

# code, name, contact, phone (placeholder numbers), address, licence number
SUPPLIERS = [
    ("GY01", "国药控股股份有限公司", "陈立新", "021-50000001",
     "上海市黄浦区龙华东路385号", "沪AA0210001"),
    ("HR02", "华润医药商业集团有限公司", "周海涛", "010-50000002",
     "北京市东城区安定门内大街257号", "京AA0100003"),
    ("JZT3", "九州通医药集团股份有限公司", "胡晓燕", "027-50000003",
     "湖北省武汉市汉阳区龙阳大道特8号", "鄂AA0270001"),
    ("WG04", "山东威高集团医用高分子制品股份有限公司", "孙国栋", "0631-5000004",
     "山东省威海市火炬高技术产业开发区兴山路18号", "鲁食药监械生产许20010010"),
]


def seed_demo(session: WriteSession, demo: dict[str, Any]) -> None:
    """Create the demo hospital's master data, unless departments exist already; either way, leave the demo
    outpatient doctors in `demo["doctors"]` and the registration types in `demo["registration_types"]` for the
    services seeded after this one."""
    if not session.scalar(select(func.count()).select_from(Department)):
        _create_master_data(session)
    codes = [code for code, *_rest, practice in DOCTORS if practice == "outpatient"]
    doctors = session.scalars(select(Doctor).where(Doctor.code.in_(codes), Doctor.active).order_by(Doctor.id))
    types = session.scalars(select(RegistrationType).where(RegistrationType.active).order_by(RegistrationType.id))
    demo["registration_types"] = [{"id": t.id, "name": t.name, "fee": t.fee} for t in types]
    demo["doctors"] = [
        {"id": d.id, "name": d.name, "department_id": d.department_id, "department_name": d.department_name,
         "registration_type_id": d.registration_type_id}
        for d in doctors
    ]


def _create_master_data(session: WriteSession) -> None:

    departments = {code: Department(code=code, name=name, kind=kind) for code, name, kind in DEPARTMENTS}
    registration_types = {code: RegistrationType(code=code, name=name, fee=Decimal(fee))
                          for code, name, fee in REGISTRATION_TYPES}
    units = {code: Unit(code=code, name=name) for code, name in UNITS}
    origins = {code: DrugOrigin(code=code, name=name) for code, name in DRUG_ORIGINS}
    categories = {code: ItemCategory(code=code, name=name) for code, name in ITEM_CATEGORIES}
    session.add_all([*departments.values(), *registration_types.values(), *units.values(), *origins.values(),
                     *categories.values()])

    session.add_all(
        Doctor(code=code, name=name, gender=gender, department=departments[dept], title=title,
               registration_type=registration_types[reg], practice=practice)
        for code, name, gender, dept, title, reg, practice in DOCTORS
    )
    session.add_all(
        MedicalItem(code=code, name=name, category=categories[cat], unit=units[unit], price=Decimal(price),
                    department=departments[dept], result_required=result)
        for code, name, cat, unit, price, dept, result in MEDICAL_ITEMS
    )
    session.add_all(
        Drug(code=code, name=name, generic_name=generic, specification=spec, dosage_form=form, unit=units[unit],
             origin=origins[origin], category=category, retail_price=Decimal(price), low_stock_threshold=threshold,
             prescription_only=rx)
        for code, name, generic, spec, form, unit, origin, category, price, threshold, rx in DRUGS
    )
    session.add_all(
        Device(code=code, name=name, specification=spec, unit=units[unit], origin=origins[origin],
               category=category, retail_price=Decimal(price), low_stock_threshold=threshold)
        for code, name, spec, unit, origin, category, price, threshold in DEVICES
    )
    session.add_all(Warehouse(code=code, name=name, location=location) for code, name, location in WAREHOUSES)
    session.add_all(Handler(code=code, name=name, phone=phone) for code, name, phone in HANDLERS)
    session.add_all(
        Supplier(code=code, name=name, contact=contact, phone=phone, address=address, licence_no=licence)
        for code, name, contact, phone, address, licence in SUPPLIERS
    )
    session.flush()
